// The researchers' page: submit questions, follow them, export answers, answer moms.
// The token lives in sessionStorage (gone when the tab closes) and is sent as a bearer token;
// no cookies, so other sites cannot make requests in a researcher's name.
"use strict";

const KEY = "peerbot-researcher-token";
const $ = (id) => document.getElementById(id);

function headers(json) {
  const h = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: headers(Boolean(body)), body: body ? JSON.stringify(body) : undefined,
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

async function refresh() {
  const { questions } = await api("GET", "/api/research/questions");
  const list = $("questions");
  list.replaceChildren();
  $("questions-empty").hidden = questions.length > 0;
  for (const q of questions) {
    const item = el("li");
    const kind = q.kind === "question" ? "" : ` · ${q.kind}`;
    item.appendChild(el("strong", `#${q.id} · ${q.status}${kind}`));
    item.appendChild(el("p", q.text));
    if (q.text !== q.submitted_text) item.appendChild(el("p", `You wrote: ${q.submitted_text}`, "muted"));
    if (q.decline_reason) item.appendChild(el("p", `Declined: ${q.decline_reason}`, "error"));
    const c = q.counts;
    item.appendChild(el("p", `Sent to ${c.asked} · answered ${c.answered} · declined ${c.declined}`, "muted"));
    if (q.status === "approved") {
      const publish = el("button", "Publish now");
      publish.type = "button";
      publish.addEventListener("click", () => api("POST", `/api/research/questions/${q.id}/publish`, {}).then(refresh).catch(show));
      item.appendChild(publish);
    }
    if (c.answered) {
      const button = el("button", "Download answers (CSV)");
      button.type = "button";
      button.addEventListener("click", () => exportCsv(q.id));
      item.appendChild(button);
    }
    list.appendChild(item);
  }
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
  const { digests } = await api("GET", "/api/research/digests");
  $("digests").replaceChildren(...digests.map((d) => el("li", d.text)));
}

function show(error) { if (error.message !== "unauthorized") $("error").textContent = error.message; }

function signOut(message) {
  sessionStorage.removeItem(KEY);
  $("workspace").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
}

async function start() {
  $("signin").hidden = true;
  $("workspace").hidden = false;
  await refresh().catch(show);
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
  if (sessionStorage.getItem(KEY)) start();
});

function showAbout() {
  const results = $("q-kind").value === "results";
  $("q-about").hidden = !results;
  $("q-about-label").hidden = !results;
  $("q-about").required = results;
}
