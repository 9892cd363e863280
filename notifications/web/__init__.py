"""Server-rendered pages behind the links in emails: the inbox, one notification, and the
preferences form. In the user's own language and time zone."""
