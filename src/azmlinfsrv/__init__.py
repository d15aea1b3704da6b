"""azmlinfsrv: an open, drop-in compatible inference HTTP server for Azure ML score.py scripts."""

__version__ = "0.1.0"
