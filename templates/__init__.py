"""Bundled email templates (installed as daemon.bundled_templates)."""
