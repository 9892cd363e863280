"""Settings package: ``base`` is shared; pick ``dev``, ``test`` or ``prod`` with
DJANGO_SETTINGS_MODULE (manage.py and celery.py default to ``dev``)."""
