"""analytics owns no tables: it only reads what the other apps store."""
