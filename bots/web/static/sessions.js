// Discussion sessions on the researchers' page and the moderators' console: propose one, follow
// it (where it stands, how many are coming), read the questions sent ahead and the feedback
// (never who), change a returned one, cancel; moderators also approve (reworded, with Spanish)
// or return with a note. Each page mounts it with its own signed-in `api`.
"use strict";

window.PeerbotSessions = (() => {
  const STANDING = {
    submitted: "Proposed: waiting for a moderator's review",
    returned: "Returned by a moderator",
    approved: "Approved: being announced to the moms who want sessions",
    announced: "Announced",
    cancelled: "Cancelled",
  };
  let options = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, content, className) {
    const node = document.createElement(tag);
    if (content !== undefined) node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  function field(form, label, control) {
    const id = `${form.id || "f"}-${form.childElementCount}`;
    control.id = id;
    const caption = el("label", label);
    caption.htmlFor = id;
    form.append(caption, control);
    return control;
  }

  function textarea(rows, max, value) {
    const area = el("textarea");
    area.rows = rows;
    area.maxLength = max;
    area.value = value || "";
    return area;
  }

  function button(label, handler, type = "button") {
    const node = el("button", label);
    node.type = type;
    if (handler) node.addEventListener("click", handler);
    return node;
  }

  function fail(error) {
    if (error.message !== "unauthorized") $("sessions-error").textContent = error.message;
  }

  function act(work) {
    $("sessions-error").textContent = "";
    return work().then(refresh).catch(fail);
  }

  // The body of a proposal from the page's form (or a session, sent again as it is).
  function proposal() {
    return {
      topic: $("s-topic").value,
      details: $("s-details").value,
      starts_at: $("s-starts").value, // no offset: read in the community's time zone
      minutes: Number($("s-minutes").value),
      online: $("s-online").value === "online",
      place: $("s-place").value,
      capacity: Number($("s-capacity").value),
    };
  }

  function again(s, topic, details) {
    const local = new Date(s.starts_at);
    return {
      topic, details, starts_at: local.toISOString(), minutes: s.minutes, online: s.online,
      place: s.place, capacity: s.capacity,
    };
  }

  function reviewForms(s, item) {
    const approve = el("form", undefined, "stack");
    approve.id = `s-approve-${s.id}`;
    const topic = field(approve, "Topic as moms will read it (plain, person-first)", textarea(2, 300, s.topic));
    const details = field(approve, "Details as moms will read them", textarea(2, 2000, s.details));
    const topicEs = field(approve, "Topic in Spanish (optional)", textarea(2, 300, s.topic_es));
    topicEs.lang = "es";
    const detailsEs = field(approve, "Details in Spanish (needed with a Spanish topic)", textarea(2, 2000, s.details_es));
    detailsEs.lang = "es";
    approve.append(button(`Approve session #${s.id} and announce it`, null, "submit"));
    approve.addEventListener("submit", (event) => {
      event.preventDefault();
      act(() => options.api("POST", `/api/review/sessions/${s.id}/approve`, {
        topic: topic.value, details: details.value, topic_es: topicEs.value, details_es: detailsEs.value,
      }));
    });
    const giveBack = el("form", undefined, "stack");
    giveBack.id = `s-return-${s.id}`;
    const note = field(giveBack, "Or return it with a note: what to change", textarea(2, 500));
    note.required = true;
    note.minLength = 3;
    giveBack.append(button(`Return session #${s.id}`, null, "submit"));
    giveBack.addEventListener("submit", (event) => {
      event.preventDefault();
      act(() => options.api("POST", `/api/review/sessions/${s.id}/return`, { note: note.value }));
    });
    item.append(approve, giveBack);
  }

  function changeForm(s, item) {
    const form = el("form", undefined, "stack");
    form.id = `s-change-${s.id}`;
    const topic = field(form, "Your topic, changed", textarea(2, 300, s.submitted_topic));
    const details = field(form, "Your details, changed", textarea(2, 2000, s.details));
    form.append(button(`Send session #${s.id} for review again`, null, "submit"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(() => options.api("PUT", `/api/sessions/${s.id}`, again(s, topic.value, details.value)));
    });
    item.append(form);
  }

  async function showHost(s, box) {
    const view = await options.api("GET", `/api/sessions/${s.id}`);
    const heading = el("h3", `What the moms said about session #${s.id} (never who)`);
    heading.tabIndex = -1;
    const c = view.session.counts;
    const facts = el("p", `Invited ${view.invited} · coming ${c.yes} · maybe ${c.maybe} · not coming ${c.no} · waiting ${c.waitlist}`, "muted counts");
    const asked = el("ol", undefined, "answers");
    asked.setAttribute("aria-label", "Questions sent ahead");
    for (const q of view.questions) asked.appendChild(el("li", `${q.text} (${q.date})`));
    const w = view.feedback.worth;
    const worth = el("p", `Worth their time: yes ${w.yes} · somewhat ${w.some} · no ${w.no}`);
    const better = el("ol", undefined, "answers");
    better.setAttribute("aria-label", "What would make the next one better");
    for (const b of view.feedback.better) better.appendChild(el("li", `${b.text} (${b.date})`));
    box.replaceChildren(
      heading, facts, el("h4", "Questions sent ahead"),
      view.questions.length ? asked : el("p", "No questions yet.", "muted"),
      el("h4", "Feedback"), worth,
      view.feedback.better.length ? better : el("p", "No written feedback yet.", "muted"),
    );
    heading.focus();
  }

  function render(s) {
    const item = el("li");
    item.dataset.sessionId = String(s.id);
    item.appendChild(el("strong", `#${s.id}: ${STANDING[s.status] || s.status}`, "standing"));
    item.appendChild(el("p", s.topic));
    if (s.topic !== s.submitted_topic) item.appendChild(el("p", `Proposed as: ${s.submitted_topic}`, "muted"));
    if (s.topic_es) {
      const spanish = el("p", "In Spanish: ", "muted");
      const words = el("span", s.topic_es);
      words.lang = "es";
      spanish.appendChild(words);
      item.appendChild(spanish);
    }
    const where = s.online ? `online: ${s.place}` : `at ${s.place}`;
    item.appendChild(el("p", `${s.starts_local} (${s.timezone}), ${s.minutes} minutes, ${where}, room for ${s.capacity}. Hosted by ${s.host}.`, "muted"));
    if (s.review_note) item.appendChild(el("p", `Moderator's note: ${s.review_note}`, "error"));
    const c = s.counts;
    if (s.status === "announced" || s.status === "cancelled") {
      item.appendChild(el("p", `Coming ${c.yes} · maybe ${c.maybe} · not coming ${c.no} · waiting ${c.waitlist}`, "muted counts"));
    }
    const actions = el("div", undefined, "actions");
    const box = el("div", undefined, "answers-box");
    if (s.status === "announced" || s.status === "cancelled") {
      actions.appendChild(button(`Questions and feedback for session #${s.id}`, () => showHost(s, box).catch(fail)));
    }
    if (s.status !== "cancelled") {
      actions.appendChild(button(`Cancel session #${s.id}`, () => {
        if (window.confirm(`Cancel session #${s.id}? Everyone coming, maybe coming or waiting is told.`)) {
          act(() => options.api("POST", `/api/sessions/${s.id}/cancel`));
        }
      }));
    }
    item.appendChild(actions);
    if (options.reviewer && s.status === "submitted") reviewForms(s, item);
    if (s.status === "returned") changeForm(s, item);
    item.appendChild(box);
    return item;
  }

  async function refresh() {
    const { sessions } = await options.api("GET", "/api/sessions");
    $("sessions-empty").hidden = sessions.length > 0;
    // Waiting for review first, then the soonest.
    const order = { submitted: 0, returned: 1, approved: 2, announced: 3, cancelled: 4 };
    sessions.sort((a, b) => (order[a.status] - order[b.status]) || a.starts_at.localeCompare(b.starts_at));
    $("sessions").replaceChildren(...sessions.map(render));
  }

  function mount(pageOptions) {
    options = pageOptions;
    const form = $("session-propose");
    if (!form.dataset.mounted) {
      form.dataset.mounted = "1";
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        $("sessions-error").textContent = "";
        options.api("POST", "/api/sessions", proposal()).then(() => {
          form.reset();
          $("session-status").textContent = "Sent. A moderator will review it before any mom hears of it.";
          return refresh();
        }).catch(fail);
      });
    }
    return refresh().catch(fail);
  }

  return { mount, refresh };
})();
