"""Encryption at rest of personal columns (phone numbers, addresses held outside the user row,
message texts, medicine names and instructions), and blind indexes for the few of them the
system looks up by value.

- ``keys``: the process's one MultiFernet and blind-index keys, built from the settings.
- ``fields``: model fields that encrypt on the way to the database and decrypt on the way
  back, and ``BlindIndexField``, a keyed hash of another field for equality look-ups.
- ``rotation``: re-encrypting every encrypted column in batches (``rotate_encryption_keys``).
- ``search``: the admin's search over encrypted columns.
"""
