#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def use_project_environment(command: str | None) -> None:
    """Run in .venv/ (made by `python3 dev.py`) when started by another Python, so that the
    README's `python manage.py ...` works in any terminal after the first command."""
    if command == "test":
        # The seed's `python manage.py test notifications.tests` runs pytest, which only
        # the development requirements bring; install them as `python3 dev.py test` would.
        sys.path.insert(0, str(ROOT))
        import dev

        dev.ensure_venv(dev.DEV_REQUIREMENTS)
    if Path(sys.prefix).resolve() == VENV_PYTHON.parent.parent.resolve():
        return
    if command != "test":
        try:
            import django  # noqa: F401
        except ModuleNotFoundError:
            pass
        else:
            return  # an environment of the operator's own (a deployment)
    if not VENV_PYTHON.exists():
        sys.exit(
            "Django is not installed for this Python: run `python3 dev.py` first (it "
            "creates .venv/), or activate an environment with requirements.txt installed"
        )
    # Replaces this process (same pid, terminal and signals), no shell involved.
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), str(ROOT / "manage.py"), *sys.argv[1:]])  # noqa: S606


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else None
    use_project_environment(command)
    # `manage.py test` runs the pytest suite (medguard_backend.test_runner) on test settings.
    default = "test" if command == "test" else "dev"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"medguard_backend.settings.{default}")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # Bad configuration is the operator's to fix: one line naming the variable, not a
        # traceback through Django's settings machinery.
        sys.exit(f"configuration error: {error}")


if __name__ == "__main__":
    main()
