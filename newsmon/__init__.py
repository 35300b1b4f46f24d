"""newsmon: watch news outlets, keep a clean archive of their stories, alert on what you track."""

__version__ = "0.1.0"
