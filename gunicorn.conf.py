"""gunicorn reads this file from the directory it starts in (`gunicorn medguard_backend.wsgi`).

Access lines carry request paths and query strings, where push tokens and Web Push
endpoints travel: the logger redacts them (medguard_backend.logging).
"""

logger_class = "medguard_backend.logging.RedactingGunicornLogger"
