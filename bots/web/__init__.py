"""The web adapter: the chat page and HTTP API served by the bot app."""
