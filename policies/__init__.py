"""Dialogue policies of our own, loaded by the Rasa server (its own venv, Python 3.10) from
config.yml. The app never imports this package (DESIGN.md: only the dialogue client talks to
Rasa)."""
