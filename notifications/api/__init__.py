"""The JSON API of notifications: the caller's inbox, preferences and push registrations,
and staff tools. Views validate input and call services (``notifications.inbox.states``,
``NotificationService`` and the small helpers in this package); they hold no business rules.
"""
