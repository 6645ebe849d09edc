// The web moderation console: queue, case view, claim, reply, notes, resolve.
// The token lives in sessionStorage (gone when the tab closes) and is sent as a bearer token.
"use strict";

const KEY = "peerbot-moderator-token";
let currentCase = null;
let seen = new Map(); // case id -> reannouncements seen, to highlight new and re-announced cases
let timer = null;
let conductTimer = null;

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401 || response.status === 403) {
    signOut("Your token was not accepted. Please sign in again.");
    throw new Error("unauthorized");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || `Error ${response.status}`);
  return data;
}

function show(view) {
  for (const id of ["signin", "queue-view", "case-view"]) $(id).hidden = id !== view;
}

function waited(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

async function refreshQueue() {
  const { cases } = await api("GET", "/api/cases");
  const list = $("queue");
  list.replaceChildren();
  $("queue-empty").hidden = cases.length > 0;
  $("queue-count").textContent = cases.length ? `(${cases.length})` : "";
  for (const c of cases) {
    const item = document.createElement("li");
    const isNew = !seen.has(c.id) || seen.get(c.id) !== c.reannouncements;
    if (isNew && c.status === "waiting") item.className = "new";
    seen.set(c.id, c.reannouncements);
    const row = document.createElement("div");
    row.className = "row";
    row.appendChild(text("span", c.severity, `badge ${c.severity}`));
    row.appendChild(text("strong", `${c.category} · ${c.member} · ${c.platform}`));
    row.appendChild(text("span", `${c.status}${c.claimed_by ? " by " + c.claimed_by : ""} · waited ${waited(c.waited_seconds)}`, "muted"));
    const open = text("button", "Open");
    open.type = "button";
    open.addEventListener("click", () => openCase(c.id));
    row.appendChild(open);
    item.appendChild(row);
    item.appendChild(text("p", c.trigger));
    list.appendChild(item);
  }
}

function reviewForm(label, value, buttons) {
  const form = document.createElement("div");
  form.className = "stack";
  const area = document.createElement("textarea");
  area.rows = 2;
  area.maxLength = 1000;
  area.value = value;
  area.setAttribute("aria-label", label);
  form.appendChild(area);
  const row = document.createElement("div");
  row.className = "actions";
  for (const [title, handler] of buttons) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = title;
    button.addEventListener("click", () => handler(area.value).then(refreshReview).catch((e) => { $("case-error").textContent = e.message; }));
    row.appendChild(button);
  }
  form.appendChild(row);
  return form;
}

async function refreshReview() {
  const { questions } = await api("GET", "/api/review/questions");
  const answers = (await api("GET", "/api/review/member-questions")).questions;
  $("review-empty").hidden = questions.length + answers.length > 0;
  $("review-questions").replaceChildren(...questions.map((q) => {
    const item = document.createElement("li");
    const what = q.kind === "invitation" ? "study invitation, to moms who want invitations"
      : q.kind === "results" ? `study results, to the moms who answered #${q.about_question_id}`
      : `quotes ${q.quotes_allowed ? "allowed" : "not allowed"}`;
    item.appendChild(text("strong", `Question #${q.id} from ${q.researcher} (${what})`));
    if (q.context) item.appendChild(text("p", q.context, "muted"));
    item.appendChild(reviewForm("The question as mothers will see it", q.text, [
      ["Approve", (words) => api("POST", `/api/review/questions/${q.id}/approve`, { text: words })],
      ["Approve and publish now", (words) => api("POST", `/api/review/questions/${q.id}/approve`, { text: words })
        .then(() => api("POST", `/api/research/questions/${q.id}/publish`, {}))],
      ["Decline (the words above become the reason)", (words) => api("POST", `/api/review/questions/${q.id}/decline`, { reason: words })],
    ]));
    return item;
  }));
  $("review-answers").replaceChildren(...answers.map((q) => {
    const item = document.createElement("li");
    item.appendChild(text("strong", `A mom asked (answer #${q.id}, by ${q.answered_by})`));
    item.appendChild(text("p", q.question));
    item.appendChild(reviewForm("The answer as she will see it", q.answer || "", [
      ["Send to her", (words) => api("POST", `/api/review/member-questions/${q.id}/approve`, { answer: words })],
      ["Give back (the words above become your note)", (words) => api("POST", `/api/review/member-questions/${q.id}/decline`, { note: words })],
    ]));
    return item;
  }));
}

function conductButton(label, handler) {
  const button = text("button", label);
  button.type = "button";
  button.addEventListener("click", () => {
    $("conduct-error").textContent = "";
    handler().then(refreshConduct).catch((e) => { $("conduct-error").textContent = e.message; });
  });
  return button;
}

async function refreshConduct() {
  const section = $("queue-view");
  if (section.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
  const { flags } = await api("GET", "/api/flags");
  const { blocks } = await api("GET", "/api/blocks");
  const { alerts } = await api("GET", "/api/flood-alerts");
  $("floods-box").hidden = alerts.length === 0;
  $("floods").replaceChildren(...alerts.map((a) => {
    const item = document.createElement("li");
    const where = a.kind === "address" ? "from one address" : "with the same words, from many chats";
    item.appendChild(text("strong", `Flood alert #${a.id}: ${a.count} crisis message(s) ${where}`));
    item.appendChild(text("p", `Sample: ${a.sample}`));
    item.appendChild(text("p", `Since ${new Date(a.first_at).toLocaleString()}, last ${new Date(a.last_at).toLocaleString()}`, "muted"));
    item.appendChild(conductButton("Seen, close", () => api("POST", `/api/flood-alerts/${a.id}/close`)));
    return item;
  }));
  $("flags-empty").hidden = flags.length > 0;
  $("blocks-empty").hidden = blocks.length > 0;
  $("flags").replaceChildren(...flags.map((f) => {
    const item = document.createElement("li");
    item.appendChild(text("strong", `Flag #${f.id}: ${f.member} on ${f.platform} (${f.category})`));
    item.appendChild(text("p", f.text));
    const reason = document.createElement("input");
    reason.placeholder = "Reason for a block";
    reason.setAttribute("aria-label", `Reason to block the author of flag ${f.id}`);
    const days = document.createElement("input");
    days.type = "number"; days.min = "1"; days.max = "365"; days.value = "7";
    days.setAttribute("aria-label", "Days");
    item.append(reason, days,
      conductButton("Block author", () => api("POST", `/api/flags/${f.id}/block`, { reason: reason.value, days: Number(days.value) })),
      conductButton("It's fine", () => api("POST", `/api/flags/${f.id}/dismiss`)));
    return item;
  }));
  $("blocks").replaceChildren(...blocks.map((b) => {
    const item = document.createElement("li");
    item.appendChild(text("strong", `${b.member} until ${new Date(b.until).toLocaleString()}`));
    item.appendChild(text("p", `${b.reason} (by ${b.created_by})`, "muted"));
    item.appendChild(conductButton("Lift block", () => api("POST", `/api/blocks/${b.id}/lift`)));
    return item;
  }));
}

async function refreshNotices() {
  const { notices } = await api("GET", "/api/notices?limit=3");
  const list = $("notices");
  list.replaceChildren(...notices.map((n) => text("li", n.text)));
}

async function refreshCase() {
  if (currentCase === null) return;
  const { case: c, notes } = await api("GET", `/api/cases/${currentCase}`);
  $("case-title").textContent = `Case ${c.id}: ${c.category}, ${c.severity}`;
  $("case-meta").textContent = `${c.member} on ${c.platform} · ${c.status}${c.claimed_by ? " by " + c.claimed_by : ""}`;
  $("claim").hidden = c.status !== "waiting";
  $("release").hidden = c.status !== "claimed";
  const { messages } = await api("GET", `/api/cases/${currentCase}/messages`);
  const log = $("transcript");
  log.replaceChildren();
  for (const m of messages) {
    const item = document.createElement("li");
    item.className = m.author;
    item.appendChild(text("span", m.author === "member" ? c.member : (m.author_name || m.author), "who"));
    item.appendChild(document.createTextNode(m.text));
    log.appendChild(item);
  }
  const list = $("notes");
  list.replaceChildren(...notes.map((n) => text("li", `${n.author}: ${n.text}`)));
}

async function openCase(id) {
  currentCase = id;
  $("case-error").textContent = "";
  show("case-view");
  await refreshCase();
}

async function act(action) {
  $("case-error").textContent = "";
  try {
    await action();
    await refreshCase();
  } catch (error) {
    if (error.message !== "unauthorized") $("case-error").textContent = error.message;
  }
}

function poll() {
  clearInterval(timer);
  timer = setInterval(() => {
    const job = currentCase === null ? refreshQueue() : refreshCase();
    job.catch(() => {});
  }, 2000);
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  clearInterval(timer);
  clearInterval(conductTimer);
  currentCase = null;
  $("signin-error").textContent = message || "";
  show("signin");
}

async function loadSnippets() {
  const snippets = await api("GET", "/api/snippets");
  const select = $("snippets");
  for (const s of snippets) {
    const option = text("option", s.title);
    option.value = s.text;
    select.appendChild(option);
  }
  select.addEventListener("change", () => {
    if (select.value) $("reply-text").value = select.value;
    select.value = "";
  });
}

async function start() {
  try {
    await refreshQueue();
  } catch (error) {
    if (error.message !== "unauthorized") $("signin-error").textContent = error.message;
    return;
  }
  show("queue-view");
  loadSnippets().catch(() => {});
  refreshNotices().catch(() => {});
  refreshReview().catch(() => {}); // not polled: a moderator may be editing the words
  refreshConduct().catch(() => {});
  clearInterval(conductTimer);
  conductTimer = setInterval(() => refreshConduct().catch(() => {}), 30000);
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("signout").addEventListener("click", () => signOut());
  $("back").addEventListener("click", () => {
    currentCase = null;
    show("queue-view");
    refreshQueue().catch(() => {});
  });
  $("claim").addEventListener("click", () => act(() => api("POST", `/api/cases/${currentCase}/claim`)));
  $("release").addEventListener("click", () => act(() => api("POST", `/api/cases/${currentCase}/release`)));
  $("reply").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("reply-text").value.trim();
    if (!value) return;
    act(async () => {
      await api("POST", `/api/cases/${currentCase}/messages`, { text: value });
      $("reply-text").value = "";
    });
  });
  $("note").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("note-text").value.trim();
    if (!value) return;
    act(async () => {
      await api("POST", `/api/cases/${currentCase}/notes`, { text: value });
      $("note-text").value = "";
    });
  });
  $("resolve").addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      await api("POST", `/api/cases/${currentCase}/resolve`, { outcome: $("outcome").value.trim(), return_to_bot: true });
      currentCase = null;
      show("queue-view");
      await refreshQueue();
    });
  });
  if (sessionStorage.getItem(KEY)) start();
  else show("signin");
});
