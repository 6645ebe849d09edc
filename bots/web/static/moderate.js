// The web moderation console: queue, case view, claim, reply, notes, resolve.
// The token lives in sessionStorage (gone when the tab closes) and is sent as a bearer token.
// The queue stays live while a case is open (beside it on a wide screen, a banner on a phone);
// a new case sounds and raises a notification once the moderator turned both on.
"use strict";

const KEY = "peerbot-moderator-token";
const OPENED_KEY = "peerbot-moderator-opened"; // case id -> announcements she has seen
const ALERTS_KEY = "peerbot-moderator-alerts";
const TITLE = "peerbot moderators";
let currentCase = null;
let queueLoaded = false;
let known = new Map(); // case id -> reannouncements when first listed in this tab
let opened = new Map(JSON.parse(sessionStorage.getItem(OPENED_KEY) || "[]"));
let newestWaiting = null;
let queueShown = ""; // what the queue list shows, to rebuild it (and lose focus) only on change
let caseShown = "";
let audio = null;
let timer = null;
let slowTimer = null;
let stream = null; // the AbortController of the queue stream while it is open
let live = false; // the queue arrives by push; polling it is only a fallback then

const $ = (id) => document.getElementById(id);

// A member's button presses arrive as commands; say what she did instead.
const TRIGGERS = {
  "/request_human": "asked for a person (pressed “Talk to a person”)",
  "/talk": "asked for a person (/talk)",
  "/start": "started the chat",
  "/help": "asked for help",
  "/help_resources": "asked where to find help",
};

function readableTrigger(trigger) {
  const words = (trigger || "").trim();
  if (!words) return "(no words: the case opened without a message)";
  if (TRIGGERS[words]) return TRIGGERS[words];
  if (/^\/[a-z0-9_]+$/i.test(words)) return `pressed a button (${words.slice(1).replace(/_/g, " ")})`;
  return words;
}

function readable(word) {
  if (word === "request") return "asked for a person";
  return String(word || "").replace(/_/g, " ");
}

function claimer(c) {
  return c.claimed_by_name || "a moderator";
}

// Her language, said only when it is not English (the team answers in English by default).
const WRITES_IN = { es: "Writes in Spanish" };

function writesIn(c) {
  return WRITES_IN[c.language] || "";
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}`,
      Accept: "application/json",
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
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

function layout() {
  const signedIn = Boolean(sessionStorage.getItem(KEY)) && queueLoaded;
  $("signin").hidden = signedIn;
  $("queue-view").hidden = !signedIn;
  $("case-view").hidden = !signedIn || currentCase === null;
  $("console").classList.toggle("case-open", signedIn && currentCase !== null);
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

function isNew(c) {
  return c.status === "waiting" && opened.get(c.id) !== c.reannouncements;
}

function markOpened(c) {
  opened.set(c.id, c.reannouncements);
  sessionStorage.setItem(OPENED_KEY, JSON.stringify([...opened]));
}

function caseName(c) {
  return `case ${c.id}, ${readable(c.category)}, ${c.severity}`;
}

// Sound and notification: only after she turned them on (browsers need her gesture for both).
function alertsOn() {
  return sessionStorage.getItem(ALERTS_KEY) === "on";
}

function beep() {
  if (!audio) return;
  try {
    const now = audio.currentTime;
    for (const [start, pitch] of [[0, 880], [0.25, 660]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.2, now + start);
      gain.gain.exponentialRampToValueAtTime(0.001, now + start + 0.22);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + start);
      tone.stop(now + start + 0.23);
    }
  } catch (error) { /* no sound on this device; the notification and title still show */ }
}

function notify(c) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const note = new Notification(`New case ${c.id}: ${readable(c.category)}, ${c.severity}`, {
      body: `${c.member} on ${c.platform} · ${readableTrigger(c.trigger)}`.slice(0, 180),
      tag: `peerbot-case-${c.id}-${c.reannouncements}`,
    });
    note.onclick = () => { window.focus(); openCase(c.id); };
  } catch (error) { /* some browsers allow notifications only from a service worker */ }
}

async function enableAlerts() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (Context && !audio) audio = new Context();
  if (audio && audio.state === "suspended") await audio.resume().catch(() => {});
  let permission = "unsupported";
  if ("Notification" in window) {
    permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  }
  sessionStorage.setItem(ALERTS_KEY, "on");
  showAlertsState(permission);
  beep();
}

function showAlertsState(permission) {
  const on = alertsOn() && audio !== null;
  $("alerts").hidden = on;
  $("alerts-status").textContent = !on ? "" : permission === "granted"
    ? "Sound and notifications are on for new cases."
    : "Sound is on. Notifications are blocked in this browser's settings.";
}

function showTitle(waitingCount) {
  document.title = waitingCount ? `(${waitingCount}) ${TITLE}` : TITLE;
}

function showBanner(cases) {
  const waiting = cases.filter((c) => c.status === "waiting" && c.id !== currentCase);
  const fresh = waiting.filter(isNew);
  newestWaiting = (fresh[0] || waiting[0] || null);
  $("queue-banner").hidden = waiting.length === 0;
  if (!newestWaiting) return;
  const lead = fresh.length ? `New: ${caseName(newestWaiting)}` : `Waiting: ${caseName(newestWaiting)}`;
  $("queue-banner-text").textContent = `${lead} · ${waiting.length} other case${waiting.length === 1 ? "" : "s"} waiting`;
  $("banner-open").setAttribute("aria-label", `Open ${caseName(newestWaiting)}`);
}

async function refreshQueue() {
  const { cases } = await api("GET", "/api/cases");
  return showQueue(cases);
}

// The queue pushed by the server (server-sent events read through fetch, which, unlike
// EventSource, can carry the bearer token). On any break it reconnects after a second;
// meanwhile the 2 s poll takes over.
async function listen() {
  if (stream || !sessionStorage.getItem(KEY)) return;
  stream = new AbortController();
  try {
    const response = await fetch("/api/cases/stream", {
      headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}`, Accept: "text/event-stream" },
      signal: stream.signal,
    });
    if (response.status === 401 || response.status === 403) {
      signOut("Your token was not accepted. Please sign in again.");
      return;
    }
    if (!response.ok || !response.body) throw new Error(`stream ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (!data) continue;
        live = true;
        $("queue-view").dataset.live = "yes";
        showQueue(JSON.parse(data).cases);
      }
    }
  } catch (error) {
    /* network break or sign-out: reconnect below */
  } finally {
    live = false;
    $("queue-view").dataset.live = "no";
    stream = null;
  }
  if (sessionStorage.getItem(KEY) && queueLoaded) setTimeout(listen, 1000);
}

function showQueue(cases) {
  const arrived = [];
  for (const c of cases) {
    const before = known.get(c.id);
    if (c.status === "waiting" && queueLoaded && before !== c.reannouncements) arrived.push(c);
    known.set(c.id, c.reannouncements);
  }
  queueLoaded = true;
  const list = $("queue");
  $("queue-empty").hidden = cases.length > 0;
  const waitingCount = cases.filter((c) => c.status === "waiting").length;
  $("queue-count").textContent = cases.length ? `(${waitingCount} waiting, ${cases.length} open)` : "";
  showTitle(waitingCount);
  showBanner(cases);
  if (arrived.length && alertsOn()) {
    beep();
    for (const c of arrived) notify(c);
  }
  const signature = JSON.stringify([currentCase, cases.map((c) => [c.id, c.status, c.severity,
    c.category, c.claimed_by_name, c.language, isNew(c), waited(c.waited_seconds)])]);
  if (signature === queueShown) return cases;
  queueShown = signature;
  const items = [];
  for (const c of cases) {
    const item = document.createElement("li");
    item.dataset.caseId = String(c.id);
    if (isNew(c)) item.classList.add("new");
    if (c.id === currentCase) item.classList.add("open-now");
    const row = document.createElement("div");
    row.className = "row";
    if (isNew(c)) row.appendChild(text("span", "New", "badge new-mark"));
    row.appendChild(text("span", c.severity, `badge ${c.severity}`));
    row.appendChild(text("strong", `#${c.id} ${readable(c.category)} · ${c.member} · ${c.platform}`));
    if (writesIn(c)) row.appendChild(text("span", writesIn(c), "badge language"));
    const state = c.status === "claimed" ? `claimed by ${claimer(c)}` : c.status;
    row.appendChild(text("span", `${state} · waited ${waited(c.waited_seconds)}`, "muted"));
    const open = text("button", `Open case ${c.id}`);
    open.type = "button";
    open.setAttribute("aria-label", `Open ${caseName(c)}`);
    open.addEventListener("click", () => openCase(c.id));
    row.appendChild(open);
    item.appendChild(row);
    item.appendChild(text("p", readableTrigger(c.trigger), "trigger"));
    items.push(item);
  }
  list.replaceChildren(...items);
  return cases;
}

function spanishFields(q) {
  const box = document.createElement("div");
  box.className = "stack";
  // Visible labels: once filled, a moderator must still see which field is which.
  const field = (label, shown, value) => {
    const wrap = document.createElement("label");
    wrap.className = "stack";
    wrap.appendChild(text("span", shown, "muted"));
    const area = document.createElement("textarea");
    area.rows = 2;
    area.maxLength = 1000;
    area.lang = "es";
    area.value = value || "";
    area.setAttribute("aria-label", label);
    wrap.appendChild(area);
    box.appendChild(wrap);
    return area;
  };
  const textEs = field(`Question #${q.id} in Spanish, for moms who read Spanish (optional)`,
    "In Spanish (optional; without it, moms who read Spanish get the English with a line saying so):", q.text_es);
  const contextEs = q.context
    ? field("Its context in Spanish (needed with the Spanish question)", "Its context in Spanish:", q.context_es)
    : { value: "" };
  return { box, text: textEs, context: contextEs };
}

function reviewForm(label, value, buttons, reasonLabel, extra) {
  const form = document.createElement("div");
  form.className = "stack";
  const area = document.createElement("textarea");
  area.rows = 2;
  area.maxLength = 1000;
  area.value = value;
  area.setAttribute("aria-label", label);
  form.appendChild(area);
  if (extra) form.appendChild(extra);
  let reason = null;
  if (reasonLabel) {
    reason = document.createElement("input");
    reason.maxLength = 500;
    reason.setAttribute("aria-label", reasonLabel);
    reason.placeholder = reasonLabel;
  }
  const row = document.createElement("div");
  row.className = "actions";
  for (const [title, handler] of buttons) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = title;
    button.addEventListener("click", () => {
      $("review-error").textContent = "";
      handler(area.value, reason ? reason.value : "").then(refreshReview).catch((e) => { $("review-error").textContent = e.message; });
    });
    row.appendChild(button);
  }
  form.appendChild(row);
  if (reason) form.appendChild(reason);
  return form;
}

async function refreshReview() {
  if ($("more").contains(document.activeElement) && ["TEXTAREA", "INPUT"].includes(document.activeElement.tagName)) return;
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
    // The Spanish version, for moms who read Spanish; left empty, they get the English words
    // with a line in Spanish saying it is only in English for now.
    const spanish = spanishFields(q);
    const approval = (words) => ({ text: words, text_es: spanish.text.value, context_es: spanish.context.value });
    item.appendChild(reviewForm("The question as mothers will see it", q.text, [
      ["Approve", (words) => api("POST", `/api/review/questions/${q.id}/approve`, approval(words))],
      ["Approve and publish now", (words) => api("POST", `/api/review/questions/${q.id}/approve`, approval(words))
        .then(() => api("POST", `/api/research/questions/${q.id}/publish`, {}))],
      ["Decline", (words, reason) => {
        if (!reason.trim()) return Promise.reject(new Error(`Write a reason for declining question #${q.id} first.`));
        return api("POST", `/api/review/questions/${q.id}/decline`, { reason });
      }],
    ], `Reason for declining question #${q.id} (the researcher sees it)`, spanish.box));
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
    item.appendChild(text("strong", `Flag #${f.id}: ${f.member} on ${f.platform} (${readable(f.category)})`));
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
  const shown = currentCase;
  const { case: c, notes } = await api("GET", `/api/cases/${shown}`);
  const { messages } = await api("GET", `/api/cases/${shown}/messages`);
  if (shown !== currentCase) return; // she opened another case meanwhile
  markOpened(c);
  $("case-title").textContent = `Case ${c.id}: ${readable(c.category)}, ${c.severity}`;
  const state = c.status === "claimed" ? `claimed by ${claimer(c)}` : c.status;
  const language = writesIn(c) ? ` · ${writesIn(c)}` : "";
  $("case-meta").textContent = `${c.member} on ${c.platform}${language} · ${state} · opened by: ${readableTrigger(c.trigger)}`;
  // Near the reply box, and read with it by screen readers.
  $("reply-language").hidden = c.language !== "es";
  if (c.language === "es") $("reply-text").setAttribute("aria-describedby", "reply-language");
  else $("reply-text").removeAttribute("aria-describedby");
  // The form starts from the case's default once, then keeps what the moderator chose.
  if ($("follow-up").dataset.caseId !== String(shown)) {
    $("follow-up").dataset.caseId = String(shown);
    $("follow-up").checked = c.follow_up_by_default;
  }
  $("claim").hidden = c.status !== "waiting";
  $("release").hidden = c.status !== "claimed";
  if (c.status !== "waiting" && c.status !== "claimed") hidePlan(); // hers again
  const signature = JSON.stringify([shown, messages, notes]);
  if (signature === caseShown) return;
  caseShown = signature;
  const log = $("transcript");
  log.replaceChildren(...messages.map((m) => {
    const item = document.createElement("li");
    item.className = m.author;
    const who = m.author === "member" ? c.member : (m.author_name || m.author);
    item.appendChild(text("span", who, "who"));
    item.appendChild(document.createTextNode(m.author === "member" ? readableTrigger(m.text) : m.text));
    return item;
  }));
  $("notes").replaceChildren(...notes.map((n) => text("li", `${n.author}: ${n.text}`)));
}

async function openCase(id) {
  if (currentCase !== id) {
    $("case-error").textContent = "";
    $("resolve-confirm").hidden = true;
    $("check-later-done").textContent = "";
    $("reply-text").value = "";
    $("transcript").replaceChildren();
    $("notes").replaceChildren();
    hidePlan();
    caseShown = "";
  }
  currentCase = id;
  layout();
  await refreshCase().catch((e) => { $("case-error").textContent = e.message; });
  refreshQueue().catch(() => {});
  $("case-title").tabIndex = -1;
  $("case-title").focus();
}

// Her safety plan (#21): asked for by the moderator, shown only while this case is open and
// only if she said yes; never kept by the page beyond the case view.
const PLAN_STEPS = {
  warning_signs: "Her warning signs",
  coping: "Things she can do on her own",
  distractions: "People and places that take her mind off things",
  people: "People she can ask for help",
  professionals: "Professionals and services",
  safer: "Making her surroundings safer",
};

function hidePlan() {
  $("plan").hidden = true;
  $("plan-steps").replaceChildren();
}

async function showPlan() {
  const { steps } = await api("GET", `/api/cases/${currentCase}/plan`);
  $("plan-steps").replaceChildren(...steps.map((s) => {
    const lines = [s.words, ...s.services].filter(Boolean);
    return text("li", `${PLAN_STEPS[s.step] || s.step}: ${lines.join(" · ") || "(nothing yet)"}`);
  }));
  $("plan").hidden = false;
}

function closeCase() {
  hidePlan();
  currentCase = null;
  layout();
  refreshQueue().catch(() => {});
}

async function act(action) {
  $("case-error").textContent = "";
  try {
    await action();
    await refreshCase();
    await refreshQueue();
  } catch (error) {
    if (error.message !== "unauthorized") $("case-error").textContent = error.message;
  }
}

function poll() {
  clearInterval(timer);
  let ticks = 0;
  timer = setInterval(() => {
    ticks += 1;
    // Pushed while the stream is open; looked at every 10 s anyway for the waiting times.
    if (!live || ticks % 5 === 0) refreshQueue().catch(() => {});
    if (currentCase !== null) refreshCase().catch(() => {});
  }, 2000);
  clearInterval(slowTimer);
  slowTimer = setInterval(() => {
    refreshConduct().catch(() => {});
    refreshReview().catch(() => {});
    refreshShifts().catch(() => {});
  }, 30000);
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  if (stream) stream.abort();
  clearInterval(timer);
  clearInterval(slowTimer);
  currentCase = null;
  queueLoaded = false;
  known = new Map();
  queueShown = "";
  caseShown = "";
  showTitle(0);
  $("signin-error").textContent = message || "";
  layout();
}

// A snippet goes where her cursor is; what she already wrote stays.
function insertSnippet(words) {
  const area = $("reply-text");
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? area.value.length;
  const before = area.value.slice(0, start);
  const after = area.value.slice(end);
  const lead = before && !/\s$/.test(before) ? " " : "";
  const tail = after && !/^\s/.test(after) ? " " : "";
  area.value = before + lead + words + tail + after;
  const caret = (before + lead + words).length;
  area.focus();
  area.setSelectionRange(caret, caret);
}

async function loadSnippets() {
  const snippets = await api("GET", "/api/snippets");
  const select = $("snippets");
  select.replaceChildren(text("option", "Insert a snippet…"));
  select.firstChild.value = "";
  for (const s of snippets) {
    const option = text("option", s.title);
    option.value = s.text;
    select.appendChild(option);
  }
}

async function refreshMothers101() {
  const { answers } = await api("GET", "/api/mothers101/candidates");
  $("m101-empty").hidden = answers.length > 0;
  const list = $("m101-candidates");
  list.replaceChildren();
  for (const a of answers) {
    const item = document.createElement("li");
    item.appendChild(text("p", a.question, "muted"));
    const form = document.createElement("form");
    form.className = "stack";
    const words = document.createElement("textarea");
    words.rows = 3; words.maxLength = 2000; words.required = true; words.value = a.text;
    if (a.language) words.lang = a.language; // kept in the language she wrote, never translated
    words.setAttribute("aria-label", `Answer ${a.answer_id}, as it will be filed`);
    const theme = document.createElement("input");
    theme.required = true; theme.minLength = 2; theme.maxLength = 80; theme.placeholder = "Theme, e.g. being heard";
    theme.setAttribute("aria-label", `Theme for answer ${a.answer_id}`);
    form.append(words, theme, text("button", `File answer ${a.answer_id} in Mothers 101`));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      api("POST", "/api/mothers101", { answer_id: a.answer_id, text: words.value, theme: theme.value })
        .then(refreshMothers101).catch((error) => { $("conduct-error").textContent = error.message; });
    });
    item.appendChild(form);
    list.appendChild(item);
  }
}

async function loadCommands() {
  // Rendered from the one command table (bots/commands.py), like the chat homes' /help.
  const { commands } = await api("GET", "/api/commands");
  const list = $("commands");
  list.replaceChildren();
  for (const c of commands.filter((c) => c.who === "moderator")) {
    const item = document.createElement("li");
    item.appendChild(text("code", c.usage));
    item.appendChild(text("span", ` ${c.summary} (${c.where === "case thread" ? "in a case's thread" : "anywhere in the home"}; Discord /${c.discord_name})`));
    list.appendChild(item);
  }
}

function seconds(value) {
  if (value === null || value === undefined) return "not yet";
  return value < 120 ? `${Math.round(value)} s` : `${Math.round(value / 60)} min`;
}

function countLine(label, counts, parts) {
  const said = parts.map(([key, name]) => `${counts[key] || 0} ${name}`).join(", ");
  return `${label}: ${said}`;
}

async function loadFigures() {
  const s = await api("GET", "/api/stats");
  const f = s.follow_ups || {}, c = s.checkins || {}, k = s.checks || {};
  const lines = [
    `Cases: ${s.cases} (${s.waiting_now} waiting now); time to claim: median ${seconds(s.median_seconds_to_claim)}, p90 ${seconds(s.p90_seconds_to_claim)}; first reply: median ${seconds(s.median_seconds_to_first_reply)}`,
    countLine("“Are you safe?” checks", k, [["safe", "safe"], ["help", "asked for help"], ["person", "asked for a person"], ["expired", "no answer (a case opened)"], ["asked", "waiting"]]),
    countLine("Check-ins after a case", f, [["offered_total", "offered"], ["scheduled", "agreed, not yet sent"], ["declined", "declined"], ["answered", "answered"], ["unanswered", "no answer"]]),
    countLine("Their answers", f, [["answered_better", "doing better"], ["answered_not_great", "not great"], ["answered_need_now", "needed someone now"]]),
    countLine("Check-ins moms chose", c, [["schedules_active", "active"], ["schedules_paused", "paused"], ["answered", "answered"], ["answered_need_now", "needed someone now"], ["unanswered", "no answer"]]),
    countLine("Asked for the same person", s.same_person || {}, [["asked", "times"], ["offered_first", "offered to them first"], ["to_everyone", "to everyone"]]),
    `On shift: ${(s.on_shift || []).join(", ") || "nobody"}`,
    ...(s.moderators || []).map(loadLine),
  ];
  $("figures").replaceChildren(...lines.map((line) => text("li", line)));
}

function loadLine(m) {
  const shift = m.on_shift ? " (on shift)" : "";
  return `${m.name}${shift}: ${m.open_now} open now, ${m.today} today, ${m.this_week} this week`;
}

// Who is on shift and each moderator's load (GET /api/shifts); the toggle posts on or off.
function showShifts(s) {
  const toggle = $("shift-toggle");
  toggle.textContent = s.me ? "Go off shift" : "Go on shift";
  toggle.setAttribute("aria-pressed", s.me ? "true" : "false");
  const names = s.on_shift.map((o) => o.name);
  const who = names.length ? `On shift: ${names.join(", ")}.` : "Nobody is on shift: new cases go to the on-call list at once.";
  const me = s.me ? "You're on shift: new cases name you first." : "You're off shift.";
  const cap = s.max_open_cases ? ` Each of us holds at most ${s.max_open_cases} open cases.` : "";
  $("shift-status").textContent = `${me} ${who}${cap}`;
  const lines = s.moderators.map(loadLine);
  $("load").replaceChildren(...(lines.length ? lines : ["No cases claimed this week."]).map((line) => text("li", line)));
}

async function refreshShifts() {
  showShifts(await api("GET", "/api/shifts"));
}

async function toggleShift() {
  $("shift-error").textContent = "";
  const on = $("shift-toggle").getAttribute("aria-pressed") === "true";
  try {
    showShifts(await api("POST", on ? "/api/shifts/off" : "/api/shifts/on"));
  } catch (error) {
    if (error.message !== "unauthorized") $("shift-error").textContent = error.message;
  }
}

async function start() {
  try {
    await refreshQueue();
  } catch (error) {
    if (error.message !== "unauthorized") $("signin-error").textContent = error.message;
    return;
  }
  $("signin-error").textContent = "";
  layout();
  showAlertsState("Notification" in window ? Notification.permission : "unsupported");
  loadSnippets().catch(() => {});
  loadCommands().catch(() => {});
  refreshMothers101().catch(() => {});
  window.PeerbotSessions.mount({ api, reviewer: true });
  refreshNotices().catch(() => {});
  refreshShifts().catch(() => {});
  refreshReview().catch(() => {});
  refreshConduct().catch(() => {});
  poll();
  listen();
}

document.addEventListener("DOMContentLoaded", () => {
  // Fetched each time it is opened: figures a moderator asked for, not polled.
  $("figures-box").addEventListener("toggle", () => {
    if ($("figures-box").open) loadFigures().catch((e) => { $("figures").replaceChildren(text("li", e.message)); });
  });
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("signout").addEventListener("click", () => signOut());
  $("shift-toggle").addEventListener("click", () => { toggleShift(); });
  $("alerts").addEventListener("click", () => { enableAlerts().catch(() => {}); });
  $("back").addEventListener("click", closeCase);
  $("banner-open").addEventListener("click", () => { if (newestWaiting) openCase(newestWaiting.id); });
  $("claim").addEventListener("click", () => act(() => api("POST", `/api/cases/${currentCase}/claim`)));
  $("release").addEventListener("click", () => act(() => api("POST", `/api/cases/${currentCase}/release`)));
  $("plan-show").addEventListener("click", () => {
    $("case-error").textContent = "";
    showPlan().catch((e) => { hidePlan(); $("case-error").textContent = e.message; });
  });
  const snippets = $("snippets");
  // A textarea keeps its selection while the select has the focus: the snippet goes there.
  snippets.addEventListener("change", () => {
    if (snippets.value) insertSnippet(snippets.value);
    snippets.value = "";
  });
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
    const checkIn = $("follow-up").checked ? " She is asked whether a check-in tomorrow is OK." : "";
    $("resolve-question").textContent = `Close case ${currentCase} as “${$("outcome").value.trim()}” and hand her back to the bot? She is told she can reach a person any time.${checkIn}`;
    $("resolve-confirm").hidden = false;
    $("resolve-yes").focus();
  });
  $("resolve-no").addEventListener("click", () => { $("resolve-confirm").hidden = true; $("outcome").focus(); });
  $("resolve-yes").addEventListener("click", () => {
    $("resolve-confirm").hidden = true;
    act(async () => {
      await api("POST", `/api/cases/${currentCase}/resolve`, { outcome: $("outcome").value.trim(), return_to_bot: true, follow_up: $("follow-up").checked });
      $("outcome").value = "";
      closeCase();
    });
  });
  $("check-later").addEventListener("submit", (event) => {
    event.preventDefault();
    const days = Number($("check-days").value);
    if (!(days >= 1 && days <= 60)) return;
    act(async () => {
      const { due_at } = await api("POST", `/api/cases/${currentCase}/follow_up`, { after_minutes: days * 1440 });
      $("check-later-done").textContent = `Check-in scheduled for ${new Date(due_at).toLocaleString()}.`;
    });
  });
  if (sessionStorage.getItem(KEY)) start();
  layout();
});
