"""Django's PostgreSQL backend, with multi-row VALUES for ``bulk_create`` (see compiler.py)."""
