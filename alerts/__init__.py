"""Alerts: the rule language, matching new stories, and delivery through apprise via a durable outbox."""
