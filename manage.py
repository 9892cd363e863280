#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    # `manage.py test` runs the pytest suite (medguard_backend.test_runner) on test settings.
    default = "test" if sys.argv[1:2] == ["test"] else "dev"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"medguard_backend.settings.{default}")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from medguard_backend.settings import settings_module_error

    if (error := settings_module_error()) is not None:
        sys.exit(f"configuration error: {error}")

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # Bad configuration is the operator's to fix: one line naming the variable, not a
        # traceback through Django's settings machinery.
        sys.exit(f"configuration error: {error}")


if __name__ == "__main__":
    main()
