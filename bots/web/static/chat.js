// The web chat: a random id kept on this device, messages posted to /api/chat, and messages that
// arrive later (a person's, a scheduled one) announced by the server-sent events of
// /api/chat/{id}/events and fetched from /api/chat/{id}/messages (polled only while the stream
// is down). The conversation is kept in this tab's session storage, so a reload keeps it and
// closing the tab forgets it; nothing more is stored on the server than before.
// The page speaks English or Spanish: every word of it is in bots/web/chat_words.yml, embedded by
// the server (which renders the page in the browser's language); it switches when a reply comes
// in the other language, or when she presses "English" / "Español" (which also tells the bot,
// with "/language en" or "/language es").
"use strict";

const POLL_MS = 3000;
const TYPING_AFTER_MS = 150;
const KEY = "peerbot-chat-id";
const LOG_KEY = "peerbot-chat-log";
const MAX_KEPT = 200;
const LANGUAGE_KEY = "peerbot-chat-language"; // the page's language in this tab (a reload keeps it)
// Only the directory's numbers, as the server marks them, ever become links.
const SAFE_HREF = /^(tel|sms):[0-9]{3,15}(\?&body=[A-Z]{2,20})?$/;

let caseState = null;
let pollTimer = null;
let stream = null;
let WORDS = { en: {}, es: {} };
let language = "en";

// A word of the page in its language (English when a key is missing in the other).
function words(key) {
  return (WORDS[language] || {})[key] || WORDS.en[key] || "";
}

// Words into an element: plain text, or pieces with the directory's tel:/sms: links.
function fillWords(element, value) {
  if (typeof value === "string") {
    element.textContent = value;
    return;
  }
  const nodes = [];
  for (const piece of value || []) {
    if (typeof piece === "string") {
      nodes.push(document.createTextNode(piece));
    } else if (piece && SAFE_HREF.test(piece.href)) {
      const anchor = document.createElement("a");
      anchor.href = piece.href;
      anchor.textContent = piece.text;
      if (piece.label) anchor.setAttribute("aria-label", piece.label);
      nodes.push(anchor);
    }
  }
  element.replaceChildren(...nodes);
}

// The whole page in `next` ("en" or "es"): its words, <html lang>, and which switch is on.
function setLanguage(next) {
  if (!WORDS[next] || !Object.keys(WORDS[next]).length) return;
  language = next;
  document.documentElement.lang = next;
  document.title = words("title");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    if (element.tagName !== "TITLE") fillWords(element, words(element.dataset.i18n));
  }
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = words(element.dataset.i18nPlaceholder);
  }
  for (const element of document.querySelectorAll("[data-i18n-aria-label]")) {
    element.setAttribute("aria-label", words(element.dataset.i18nAriaLabel));
  }
  for (const button of document.querySelectorAll("[data-language]")) {
    button.setAttribute("aria-pressed", String(button.dataset.language === next));
  }
  try {
    sessionStorage.setItem(LANGUAGE_KEY, next);
  } catch (error) {
    // Storage turned off: the page still switches, a reload starts in the browser's language.
  }
}

function loadWords() {
  try {
    WORDS = JSON.parse(document.getElementById("chat-words").textContent);
  } catch (error) {
    // Unreadable: the page keeps the words it was served with.
  }
  let kept = null;
  try {
    kept = sessionStorage.getItem(LANGUAGE_KEY);
  } catch (error) {
    // Storage turned off: start in the language the page was served in.
  }
  setLanguage(WORDS[kept] ? kept : document.documentElement.lang);
}

function chatId() {
  let id = localStorage.getItem(KEY);
  if (!id) {
    id = crypto.randomUUID().replace(/-/g, "");
    localStorage.setItem(KEY, id);
  }
  return id;
}

function keptMessages() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(LOG_KEY) || "null");
    if (kept && kept.id === chatId() && Array.isArray(kept.items)) return kept.items;
  } catch (error) {
    // Unreadable: start afresh.
  }
  return [];
}

function keepMessage(entry) {
  const items = keptMessages();
  items.push(entry);
  try {
    sessionStorage.setItem(LOG_KEY, JSON.stringify({ id: chatId(), items: items.slice(-MAX_KEPT) }));
  } catch (error) {
    // Storage full or turned off: the chat still works, it just won't survive a reload.
  }
}

// The text as DOM nodes, with the directory's numbers as tel: and sms: links.
function appendText(parent, text, links) {
  let at = 0;
  for (const link of links || []) {
    const ok = Number.isInteger(link.start) && Number.isInteger(link.end) &&
      link.start >= at && link.end > link.start && link.end <= text.length &&
      SAFE_HREF.test(link.href);
    if (!ok) continue;
    parent.appendChild(document.createTextNode(text.slice(at, link.start)));
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = text.slice(link.start, link.end);
    if (!/[0-9]/.test(anchor.textContent)) {
      // "call or text 988": the word "call" says which number it calls.
      const number = link.href.slice(4).split("?")[0];
      anchor.setAttribute("aria-label", `${anchor.textContent} ${number}`);
    }
    parent.appendChild(anchor);
    at = link.end;
  }
  parent.appendChild(document.createTextNode(text.slice(at)));
}

function render(entry) {
  const item = document.createElement("li");
  item.className = entry.kind;
  if (entry.language) item.lang = entry.language;
  if (entry.urgent) {
    item.classList.add("crisis");
    item.setAttribute("role", "alert");
  }
  if (entry.who) {
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = entry.who;
    item.appendChild(label);
  }
  appendText(item, entry.text, entry.links);
  if (entry.buttons && entry.buttons.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const b of entry.buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", () => send(b.payload, b.title));
      row.appendChild(button);
    }
    item.appendChild(row);
  }
  if (entry.attachment && entry.attachment.content) {
    // A session's calendar file: a download made here, from the message itself (no request).
    const file = new Blob([entry.attachment.content], { type: "text/calendar" });
    const download = document.createElement("a");
    download.className = "attachment";
    download.href = URL.createObjectURL(file);
    download.download = String(entry.attachment.filename || "session.ics").replace(/[^\w.-]/g, "");
    download.textContent = words("calendar_download");
    item.appendChild(download);
  }
  document.getElementById("log").appendChild(item);
  return item;
}

// The newest message whole, its last line and buttons included, above the message box.
function showNewest() {
  const log = document.getElementById("log");
  log.scrollTop = log.scrollHeight;
}

function addMessage(entry) {
  render(entry);
  keepMessage(entry);
  showNewest();
}

function showReplies(replies) {
  for (const r of replies) {
    // The page follows the language she is answered in.
    const written = WORDS[r.language] ? r.language : null;
    if (written && written !== language) setLanguage(written);
    addMessage({
      kind: r.sender_name ? "human" : "bot",
      who: r.sender_name || "peerbot",
      text: r.text,
      buttons: r.buttons || [],
      links: r.links || [],
      urgent: Boolean(r.urgent),
      language: written,
      attachment: r.attachment || null,
    });
  }
}

function welcome() {
  const text = words("welcome").trim();
  if (text) {
    addMessage({ kind: "bot", who: "peerbot", text, buttons: [], links: [], urgent: false, language });
  }
}

function setTyping(on) {
  const typing = document.getElementById("typing");
  typing.hidden = !on;
  if (on) showNewest();
}

async function send(text, shown) {
  addMessage({ kind: "me", text: shown || text });
  const typingTimer = setTimeout(() => setTyping(true), TYPING_AFTER_MS);
  let replies;
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: chatId(), text }),
    });
    // 429 (too many messages at once) still carries kind words to show.
    if (!response.ok && response.status !== 429) throw new Error(String(response.status));
    replies = (await response.json()).replies;
  } catch (error) {
    replies = [{ text: words("send_failed") }];
  } finally {
    clearTimeout(typingTimer);
    setTyping(false);
  }
  showReplies(replies);
}

// Messages that arrived later; each is handed out once. Also learns whether a case is open.
async function fetchLater() {
  try {
    const response = await fetch(`/api/chat/${chatId()}/messages`);
    if (!response.ok) return false;
    const body = await response.json();
    caseState = body.case || null;
    showReplies(body.messages);
    return true;
  } catch (error) {
    return false; // Offline for a moment: the messages wait on the server.
  }
}

function startPolling() {
  if (pollTimer === null) pollTimer = setInterval(fetchLater, POLL_MS);
  document.body.dataset.updates = "polling";
}

function stopPolling() {
  if (pollTimer !== null) clearInterval(pollTimer);
  pollTimer = null;
}

function listen() {
  stream = new EventSource(`/api/chat/${chatId()}/events`);
  stream.addEventListener("open", () => {
    stopPolling();
    document.body.dataset.updates = "stream";
  });
  stream.addEventListener("message", async (event) => {
    let signal;
    try {
      signal = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    caseState = signal.case || null;
    if (signal.pending && !(await fetchLater())) setTimeout(fetchLater, POLL_MS);
  });
  stream.addEventListener("error", () => {
    // The browser reconnects by itself; meanwhile (or if it gives up) the page polls.
    startPolling();
    if (stream.readyState === EventSource.CLOSED) {
      stream = null;
      setTimeout(() => { if (stream === null) listen(); }, POLL_MS);
    }
  });
}

function stopListening() {
  if (stream !== null) stream.close();
  stream = null;
  stopPolling();
}

async function askToForget() {
  await fetchLater(); // the case's state now, not as it was
  const dialog = document.getElementById("forget-dialog");
  const open = caseState === "waiting" || caseState === "claimed";
  for (const part of dialog.querySelectorAll("[data-case]")) {
    const shows = part.dataset.case;
    part.hidden = !(shows === (caseState || "none") || (shows === "open" && open));
  }
  const confirm = document.getElementById("forget-confirm");
  confirm.dataset.i18n = open ? "forget_confirm_open" : "forget_confirm";
  confirm.textContent = words(confirm.dataset.i18n);
  dialog.showModal();
}

function forget() {
  stopListening();
  localStorage.removeItem(KEY);
  sessionStorage.removeItem(LOG_KEY);
  caseState = null;
  document.getElementById("log").replaceChildren();
  welcome();
  listen();
}

// Her choice of language: the page switches at once, and the bot is told (it answers it).
function chooseLanguage(next) {
  setLanguage(next);
  send(`/language ${next}`, next === "es" ? "Español" : "English");
}

document.addEventListener("DOMContentLoaded", () => {
  loadWords();
  for (const button of document.querySelectorAll("[data-language]")) {
    button.addEventListener("click", () => chooseLanguage(button.dataset.language));
  }
  const form = document.getElementById("composer");
  const box = document.getElementById("message");
  const dialog = document.getElementById("forget-dialog");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    box.value = "";
    send(text);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.getElementById("forget").addEventListener("click", askToForget);
  document.getElementById("forget-keep").addEventListener("click", () => dialog.close());
  document.getElementById("forget-confirm").addEventListener("click", () => {
    dialog.close();
    forget();
  });
  const kept = keptMessages();
  if (kept.length) {
    for (const entry of kept) render(entry);
    showNewest();
  } else {
    welcome();
  }
  fetchLater();
  listen();
});
