// The web chat: a random id kept on this device, messages posted to /api/chat, and messages
// from a person (a moderator) picked up from /api/chat/{id}/messages every few seconds.
"use strict";

const POLL_MS = 3000;
const KEY = "peerbot-chat-id";

function chatId() {
  let id = localStorage.getItem(KEY);
  if (!id) {
    id = crypto.randomUUID().replace(/-/g, "");
    localStorage.setItem(KEY, id);
  }
  return id;
}

function addMessage(kind, text, buttons, who) {
  const log = document.getElementById("log");
  const item = document.createElement("li");
  item.className = kind;
  if (who) {
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    item.appendChild(label);
  }
  item.appendChild(document.createTextNode(text));
  if (buttons && buttons.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", () => send(b.payload, b.title));
      row.appendChild(button);
    }
    item.appendChild(row);
  }
  log.appendChild(item);
  item.scrollIntoView({ block: "end" });
}

function showReplies(replies) {
  for (const r of replies) {
    addMessage(r.sender_name ? "human" : "bot", r.text, r.buttons, r.sender_name || "peerbot");
  }
}

async function send(text, shown) {
  addMessage("me", shown || text);
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: chatId(), text }),
    });
    // 429 (too many messages at once) still carries kind words to show.
    if (!response.ok && response.status !== 429) throw new Error(String(response.status));
    showReplies((await response.json()).replies);
  } catch (error) {
    addMessage("bot", "Sorry, I couldn't send that. Please try again. In an emergency call 911, or call or text 988.", [], "peerbot");
  }
}

async function poll() {
  try {
    const response = await fetch(`/api/chat/${chatId()}/messages`);
    if (response.ok) showReplies((await response.json()).messages);
  } catch (error) {
    // Offline for a moment: the messages wait on the server and come with the next poll.
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("composer");
  const box = document.getElementById("message");
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
  document.getElementById("forget").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    document.getElementById("log").replaceChildren();
  });
  setInterval(poll, POLL_MS);
});
