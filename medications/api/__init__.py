"""The JSON API of medications: the caller's supplies, schedules and doses (take, skip,
snooze, restock), and, for caregivers, the patients linked to them, read-only. Views
validate input and call the services (``medications.doses``, ``medications.stock``); the
conventions (base view, strict serializers, errors, throttles, language) are the
notifications API's, shared from ``notifications.api``.
"""
