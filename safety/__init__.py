"""Crisis screening, crisis replies and handoff cases. No platform SDK or web code here."""
