"""Migration operations shared by apps."""

from __future__ import annotations

from django.db.migrations.operations.base import Operation


class PostgresOnly(Operation):
    """Apply the wrapped operation's schema change on PostgreSQL only; the state always.

    Full-text GIN indexes exist only on PostgreSQL. On the embedded SQLite default the model
    state still carries them (so ``makemigrations --check`` stays clean) while the database
    simply has no such index and search falls back to plain matching.
    """

    reversible = True

    def __init__(self, operation: Operation) -> None:
        self.operation = operation

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.operation], {})

    def state_forwards(self, app_label, state) -> None:
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"On PostgreSQL only: {self.operation.describe()}"

    @property
    def migration_name_fragment(self) -> str:
        return self.operation.migration_name_fragment
