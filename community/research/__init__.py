"""Research Q&A: researchers ask the community, mothers ask researchers, with consent.

`models` holds the tables, `questions` the researchers' questions and their review,
`publication` the scheduled, resumable delivery to mothers who opted in, `answers` consent,
answers and exports, `member_questions` the mothers' own questions and the Research 101 library,
`deidentify` the removal of obvious identifiers (English and Spanish), `preferences` each
mother's opt-ins, and `texts` what mothers read, in her language, from the reviewed words in
`wording.yml` (English and Spanish for every key).
"""
