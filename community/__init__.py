"""Members, roles, settings, the resource directory, and the database."""
