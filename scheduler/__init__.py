"""The background service: APScheduler runs crawls and deliveries on time."""
