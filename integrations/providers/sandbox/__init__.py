"""Sandbox channel: a customer simulator that needs no external account."""
