"""Bundled email templates (installed as aftercare.bundled_templates)."""
