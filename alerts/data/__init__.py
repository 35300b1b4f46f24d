"""The names newsmon ships, and the script that builds them (python -m alerts.data.build)."""
