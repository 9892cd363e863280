"""Settings package: ``base`` is shared; pick ``dev``, ``test`` or ``prod`` with
DJANGO_SETTINGS_MODULE (manage.py and celery.py default to ``dev``)."""

from __future__ import annotations

import importlib.util
import os


def settings_module_error() -> str | None:
    """One line saying that DJANGO_SETTINGS_MODULE names no module, else None (Django would
    say it with a traceback)."""
    name = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    try:
        found = importlib.util.find_spec(name) if name else None
    except (ModuleNotFoundError, ValueError):
        found = None
    if found is None:
        return (
            f"DJANGO_SETTINGS_MODULE names no module: {name!r} "
            "(medguard_backend.settings.dev, .test or .prod)"
        )
    return None
