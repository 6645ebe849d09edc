"""Rasa NLU components of this project, loaded by the Rasa server from config.yml."""
