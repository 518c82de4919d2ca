"""Bundled email templates (installed as daemon.templates)."""
