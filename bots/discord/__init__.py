"""The Discord adapter (discord.py 2): mothers in DMs, moderators in a private channel with one
thread per case. The only package that imports `discord`."""
