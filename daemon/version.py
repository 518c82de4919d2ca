"""The running code's version, as the installed package says (what ``--version`` and ``status`` show)."""
from __future__ import annotations


def version() -> str:
    """The installed package's version (pyproject.toml), or a plain word when run from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version as installed
    try:
        return installed("aftercare")
    except PackageNotFoundError:
        return "unknown (not installed)"
