"""Limits of what the archive stores, in a module of their own: the CLI checks its arguments against them
without importing the models (and SQLAlchemy) first."""

MAX_ID = 2**63 - 1  # the largest Identifier on either database: a larger int overflows the drivers, refuse it first
