"""What providers tell us after a send: delivery reports (webhooks and polled receipts),
replies to reminders, and the reconciliation of sends whose outcome is unknown."""
