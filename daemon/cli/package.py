"""``aftercare print-unit``, ``print-config``: what the wheel carries for installing the service."""
from __future__ import annotations


def register(sub, add) -> None:
    pass
