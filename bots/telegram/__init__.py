"""The Telegram adapter (python-telegram-bot 22): mothers in private chats, moderators in a
supergroup with one topic per case. The only package that imports `telegram`."""
