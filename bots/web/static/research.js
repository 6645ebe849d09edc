// The researchers' page: submit questions, follow them, read and export answers, answer moms.
// The token lives in sessionStorage (gone when the tab closes) and is sent as a bearer token;
// no cookies, so other sites cannot make requests in a researcher's name.
"use strict";

const KEY = "peerbot-researcher-token";
const PER_PAGE = 10;
const $ = (id) => document.getElementById(id);
const reading = new Map(); // question id -> the page of answers she is reading
const LANGUAGE_NAMES = { en: "English", es: "Spanish" };
let publishingTimer = null;

function headers(json) {
  const h = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: { ...headers(Boolean(body)), Accept: "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401 || response.status === 403) {
    signOut("Your token was not accepted. Please sign in again.");
    throw new Error("unauthorized");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : `Error ${response.status}`);
  return data;
}

function el(tag, content, className) {
  const node = document.createElement(tag);
  if (content !== undefined) node.textContent = content;
  if (className) node.className = className;
  return node;
}

async function exportCsv(id) {
  const response = await fetch(`/api/research/questions/${id}/answers.csv`, { headers: headers(false) });
  if (!response.ok) { $("error").textContent = `Export failed (${response.status}).`; return; }
  const link = el("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `question-${id}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

function plainDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
}

// Where a question stands, in words: "approved" alone hid that publishing had begun.
function standing(q) {
  const now = Date.now();
  if (q.status === "submitted") return "Submitted: waiting for a moderator's review";
  if (q.status === "declined") return "Declined by a moderator";
  if (q.status === "closed") return "Closed: no more answers are taken";
  if (q.status === "published") return `Published ${plainDate(q.published_at || q.publish_at)}`;
  if (q.status === "approved" && q.publish_at && Date.parse(q.publish_at) <= now + 1000) {
    return "Publishing now: on its way to the mothers who opted in";
  }
  if (q.status === "approved" && q.publish_at) return `Approved; to be published ${plainDate(q.publish_at)}`;
  return "Approved; not published yet";
}

function publishing(q) {
  return q.status === "approved" && q.publish_at && Date.parse(q.publish_at) <= Date.now() + 1000;
}

async function showAnswers(q, box, page, focus = true) {
  reading.set(q.id, page);
  const data = await api("GET", `/api/research/questions/${q.id}/answers?per_page=${PER_PAGE}&page=${page}`);
  const pages = Math.max(1, Math.ceil(data.total / PER_PAGE));
  const first = (page - 1) * PER_PAGE + 1;
  const last = Math.min(data.total, page * PER_PAGE);
  const heading = el("h3", `Answers ${first}-${last} of ${data.total} to question #${q.id}`);
  heading.id = `answers-title-${q.id}`;
  heading.tabIndex = -1;
  const list = el("ol", undefined, "answers");
  list.setAttribute("aria-labelledby", heading.id);
  list.start = first;
  for (const a of data.answers) {
    const item = el("li");
    const words = el("p", a.text);
    if (a.language) words.lang = a.language; // screen readers read a Spanish answer as Spanish
    item.appendChild(words);
    const day = new Date(`${a.date}T12:00:00`).toLocaleDateString(undefined, { dateStyle: "long" });
    const facts = [`Answer ${a.number}`, day, a.quotable ? "may be quoted" : "do not quote"];
    // Kept as she wrote it, never translated: the note says which language that was.
    if (LANGUAGE_NAMES[a.language]) facts.push(`written in ${LANGUAGE_NAMES[a.language]}`);
    item.appendChild(el("p", facts.join(" · "), "muted"));
    if (a.removed.length) item.appendChild(el("p", `Removed before you saw it: ${a.removed.join(", ")}.`, "muted removed"));
    list.appendChild(item);
  }
  const pager = el("div", undefined, "pager");
  const previous = el("button", "Previous answers");
  previous.type = "button";
  previous.disabled = page <= 1;
  previous.addEventListener("click", () => showAnswers(q, box, page - 1).catch(show));
  const next = el("button", "Next answers");
  next.type = "button";
  next.disabled = page >= pages;
  next.addEventListener("click", () => showAnswers(q, box, page + 1).catch(show));
  pager.append(previous, el("span", `Page ${page} of ${pages}`, "muted"), next);
  box.replaceChildren(heading, list, pager);
  if (focus) heading.focus();
}

async function refresh() {
  const { questions } = await api("GET", "/api/research/questions");
  $("signin-error").textContent = "";
  const list = $("questions");
  list.replaceChildren();
  $("questions-empty").hidden = questions.length > 0;
  for (const q of questions) {
    const item = el("li");
    item.dataset.questionId = String(q.id);
    const kind = q.kind === "question" ? "" : ` (${q.kind === "invitation" ? "study invitation" : "study results"})`;
    item.appendChild(el("strong", `#${q.id}${kind}: ${standing(q)}`, "standing"));
    item.appendChild(el("p", q.text));
    if (q.text !== q.submitted_text) item.appendChild(el("p", `You wrote: ${q.submitted_text}`, "muted"));
    if (q.text_es) {
      const spanish = el("p", "In Spanish, for moms who read Spanish (added at review): ", "muted");
      const words = el("span", q.text_es);
      words.lang = "es";
      spanish.appendChild(words);
      item.appendChild(spanish);
    }
    if (q.decline_reason) item.appendChild(el("p", `Declined: ${q.decline_reason}`, "error"));
    const c = q.counts;
    if (q.status === "published" || q.status === "closed") {
      item.appendChild(el("p", `Sent to ${c.asked} · answered ${c.answered} · declined ${c.declined}`, "muted counts"));
    }
    const actions = el("div", undefined, "actions");
    if (q.status === "approved" && !q.publish_at) {
      const publish = el("button", `Publish question #${q.id} now`);
      publish.type = "button";
      publish.addEventListener("click", () => {
        publish.disabled = true;
        api("POST", `/api/research/questions/${q.id}/publish`, {}).then(refresh).catch(show);
      });
      actions.appendChild(publish);
    }
    const box = el("div", undefined, "answers-box");
    if (c.answered) {
      const read = el("button", `Read the ${c.answered} answer${c.answered === 1 ? "" : "s"}`);
      read.type = "button";
      read.addEventListener("click", () => showAnswers(q, box, 1).catch(show));
      const button = el("button", "Download answers (CSV)");
      button.type = "button";
      button.addEventListener("click", () => exportCsv(q.id));
      actions.append(read, button);
    }
    item.appendChild(actions);
    item.appendChild(box);
    if (reading.has(q.id)) showAnswers(q, box, reading.get(q.id), false).catch(show);
    list.appendChild(item);
  }
  // Publishing runs in the background: look again until it is done.
  clearTimeout(publishingTimer);
  if (questions.some(publishing)) publishingTimer = setTimeout(() => refresh().catch(show), 2000);
  const waiting = (await api("GET", "/api/research/member-questions")).questions;
  const moms = $("member-questions");
  moms.replaceChildren();
  $("member-questions-empty").hidden = waiting.length > 0;
  for (const q of waiting) {
    const item = el("li");
    item.appendChild(el("p", q.question));
    if (q.review_note) item.appendChild(el("p", `Moderator's note: ${q.review_note}`, "muted"));
    const form = el("form", undefined, "composer");
    const answer = el("textarea");
    answer.rows = 2; answer.maxLength = 4000; answer.required = true;
    answer.setAttribute("aria-label", "Your answer");
    form.appendChild(answer);
    form.appendChild(el("button", "Answer"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      api("POST", `/api/research/member-questions/${q.id}/answer`, { text: answer.value }).then(refresh).catch(show);
    });
    item.appendChild(form);
    moms.appendChild(item);
  }
  await showMothers101();
  await window.PeerbotSessions.mount({ api, reviewer: false });
  const { digests } = await api("GET", "/api/research/digests");
  $("digests-empty").hidden = digests.length > 0;
  $("digests").replaceChildren(...digests.map((d) => {
    const item = el("li");
    item.appendChild(el("h3", `Digest for ${d.period_label || d.period}`));
    item.appendChild(el("p", d.text, "digest-text"));
    return item;
  }));
}

async function showMothers101() {
  const { entries } = await api("GET", "/api/mothers101");
  $("m101-empty").hidden = entries.length > 0;
  const box = $("m101");
  box.replaceChildren();
  let question = null;
  let list = null;
  for (const e of entries) {
    if (e.question_id !== question) {
      question = e.question_id;
      box.appendChild(el("h3", e.question));
      list = el("ul", undefined, "queue");
      box.appendChild(list);
    }
    const item = el("li");
    const written = LANGUAGE_NAMES[e.language] ? ` · written in ${LANGUAGE_NAMES[e.language]}` : "";
    item.appendChild(el("p", `${e.theme}${written}`, "muted"));
    const words = el("p", e.text);
    if (e.language) words.lang = e.language;
    item.appendChild(words);
    list.appendChild(item);
  }
}

async function exportMothers101() {
  const response = await fetch("/api/mothers101.csv", { headers: headers(false) });
  if (!response.ok) { $("error").textContent = `Export failed (${response.status}).`; return; }
  const link = el("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "mothers-101.csv";
  link.click();
  URL.revokeObjectURL(link.href);
}

function show(error) { if (error.message !== "unauthorized") $("error").textContent = error.message; }

function signOut(message) {
  sessionStorage.removeItem(KEY);
  $("workspace").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
}

async function start() {
  try {
    await refresh();
  } catch (error) {
    if (error.message !== "unauthorized") $("signin-error").textContent = error.message;
    return;
  }
  $("signin-error").textContent = "";
  $("signin").hidden = true;
  $("workspace").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("signout").addEventListener("click", () => signOut());
  $("submit").addEventListener("submit", (event) => {
    event.preventDefault();
    const closes = $("q-closes").value ? new Date($("q-closes").value).toISOString() : null;
    const kind = $("q-kind").value;
    api("POST", "/api/research/questions", {
      kind, text: $("q-text").value, context: $("q-context").value,
      quotes_allowed: $("q-quotes").checked, closes_at: closes,
      about_question_id: kind === "results" ? Number($("q-about").value) || null : null,
    }).then(() => {
      $("submit").reset();
      showAbout();
      $("submit-status").textContent = "Sent. A moderator will review it before mothers see it.";
      return refresh();
    }).catch(show);
  });
  $("q-kind").addEventListener("change", showAbout);
  $("m101-export").addEventListener("click", () => exportMothers101().catch(show));
  if (sessionStorage.getItem(KEY)) start();
});

function showAbout() {
  const results = $("q-kind").value === "results";
  $("q-about").hidden = !results;
  $("q-about-label").hidden = !results;
  $("q-about").required = results;
}
