"""Cases, blocks and flags: what the moderators' side decides about members.

`handoff` holds handoff cases (a conversation handed from the bot to a person, and every
moderator's action on one); `flags` holds flags on community posts and blocks for abuse. Both are
platform-neutral: the web console, Telegram and Discord call the same functions.
"""
