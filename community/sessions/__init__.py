"""Discussion sessions (issue #22): a researcher or moderator proposes a session, moderators
review it like a research question, mothers who opted in to sessions hear of it and RSVP in
chat; the host sees counts, questions sent ahead and feedback, never who.

`models` holds the tables, `proposals` the proposal and its review, `announce` the scheduled
announcement, reminders and feedback requests, `rsvp` her answer with the capacity and the
waitlist, `voice` her anonymous question ahead and her feedback, `host` what the host sees,
`calendar` the `.ics` file, and `texts` what mothers read (from `wording.yml`).
"""
