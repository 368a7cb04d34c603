"""Migration operations shared by apps."""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently as PostgresAddIndexConcurrently
from django.contrib.postgres.operations import (
    RemoveIndexConcurrently as PostgresRemoveIndexConcurrently,
)
from django.db.migrations.operations import AddField, AddIndex, AlterField, RemoveIndex
from django.db.migrations.operations.base import Operation
from django.db.models import Index, UniqueConstraint


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


class AddFieldInPlace(AddField):
    """``AddField`` that adds the column in place on SQLite too.

    SQLite's schema editor rebuilds a whole table to add a NOT NULL column, recreating every
    index of the model state, and the PostgreSQL-only ones (GIN, above) are not valid SQLite.
    SQLite can add such a column in place when it has a constant default, which is what this
    does there; PostgreSQL gets Django's own ``AddField``.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        default = schema_editor.quote_value(schema_editor.effective_default(field))
        column = schema_editor.quote_name(field.column)
        table = schema_editor.quote_name(model._meta.db_table)
        null = "" if field.null else " NOT NULL"
        kind = field.db_type(schema_editor.connection)
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} {kind}{null} DEFAULT {default}"
        )


class _ConcurrentOnPostgres:
    """Django's concurrent index operation (``django.contrib.postgres``) on PostgreSQL, and
    ``plain``, the same change done the ordinary way, on any other database."""

    plain: type[Operation]

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexConcurrently(_ConcurrentOnPostgres, PostgresAddIndexConcurrently):
    """Django's ``AddIndexConcurrently`` on PostgreSQL, a plain ``AddIndex`` elsewhere.

    A plain ``CREATE INDEX`` holds off every INSERT into the table until the build ends: on the
    webhook events, which are never pruned, that is every acknowledgement for as long as the
    whole heap takes to scan. ``CREATE INDEX CONCURRENTLY`` lets them through; it cannot run in
    a transaction, so the migration using this sets ``atomic = False``. Django's operation is
    PostgreSQL's alone; SQLite (the embedded default) builds the index the plain way.
    """

    plain = AddIndex


class RemoveIndexConcurrently(_ConcurrentOnPostgres, PostgresRemoveIndexConcurrently):
    """Django's ``RemoveIndexConcurrently`` on PostgreSQL, a plain ``RemoveIndex`` elsewhere:
    ``DROP INDEX`` waits for and then holds off every query on the table, ``DROP INDEX
    CONCURRENTLY`` lets writes through. Like ``AddIndexConcurrently``, only in a migration with
    ``atomic = False``."""

    plain = RemoveIndex


class DropFieldIndex(AlterField):
    """``AlterField`` to ``db_index=False``: the index the field had of its own is dropped
    (concurrently on PostgreSQL, so only in a migration with ``atomic = False``) and nothing else
    changes.

    Django's own ``AlterField`` would do the same on PostgreSQL inside a lock, and on SQLite
    rebuild the whole table, recreating every index of the model state, which the
    PostgreSQL-only ones make impossible (see ``PostgresOnly``).
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        old = model._meta.get_field(self.name)
        if not old.db_index or self.field.db_index:
            raise ValueError(f"{self.model_name}.{self.name}: DropFieldIndex only drops an index")
        declared = {index.name for index in model._meta.indexes}
        names = schema_editor._constraint_names(
            model, [old.column], index=True, type_=Index.suffix, exclude=declared
        )
        concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
        for name in names:
            schema_editor.execute(
                f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}"
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            field = model._meta.get_field(self.name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    def describe(self) -> str:
        return f"Drop the own index of {self.model_name}.{self.name}"


class AlterUniqueConstraintConcurrently(Operation):
    """Give the unique constraint ``constraint.name`` on the same columns a new condition (or
    none), with writes let through on PostgreSQL.

    Django's own ``RemoveConstraint`` and ``AddConstraint`` would build the new index under a
    lock that holds off every INSERT for as long as the heap takes to scan (for the messages,
    every customer message), and would leave the table without the constraint in between. On
    PostgreSQL the replacement index is built concurrently under a temporary name while the old
    one still guards, then the old one is dropped concurrently, and the new index becomes the
    constraint (``ADD CONSTRAINT … USING INDEX``, a catalog change) or takes the old name. On
    SQLite (the embedded default, small) the index is dropped and created again: SQLite's
    ``AddConstraint`` rebuilds the table with every index of the model state, and the
    PostgreSQL-only ones cannot be built there (see ``PostgresOnly``). Only in a migration with
    ``atomic = False``.
    """

    reversible = True

    def __init__(self, model_name: str, constraint: UniqueConstraint) -> None:
        self.model_name = model_name
        self.constraint = constraint

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "constraint": self.constraint}
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state) -> None:
        state.remove_constraint(app_label, self.model_name.lower(), self.constraint.name)
        state.add_constraint(app_label, self.model_name.lower(), self.constraint)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        self._replace(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        self._replace(app_label, schema_editor, from_state, to_state)

    def _replace(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        new = _named_constraint(model, self.constraint.name)
        if schema_editor.connection.vendor != "postgresql":
            name = schema_editor.quote_name(new.name)
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
            schema_editor.execute(_unique_index_sql(model, schema_editor, new, name))
            return
        old = _named_constraint(from_state.apps.get_model(app_label, self.model_name), new.name)
        _replace_concurrently(schema_editor, model, old, new)

    def describe(self) -> str:
        return f"Alter the unique constraint {self.constraint.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name.lower()}_{self.constraint.name.lower()}"


def _replace_concurrently(schema_editor, model, old, new) -> None:
    """PostgreSQL: build, drop, attach. Each step can be run again after a run stopped there."""
    table = schema_editor.quote_name(model._meta.db_table)
    name = schema_editor.quote_name(new.name)
    building = schema_editor.quote_name(f"{new.name[:50]}_new")
    if not _valid_index(schema_editor, building):  # else a run that stopped later built it
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {building}")  # invalid
        schema_editor.execute(
            _unique_index_sql(model, schema_editor, new, building, concurrently=True)
        )
    if old.condition is None:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    else:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    if new.condition is None:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {building}"
        )
    else:
        schema_editor.execute(f"ALTER INDEX {building} RENAME TO {name}")


def _named_constraint(model, name: str) -> UniqueConstraint:
    return next(c for c in model._meta.constraints if c.name == name)


def _valid_index(schema_editor, quoted_name: str) -> bool:
    """Whether the index exists and is valid (a failed concurrent build leaves it invalid)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [quoted_name]
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _unique_index_sql(model, schema_editor, constraint, name: str, *, concurrently=False) -> str:
    columns = ", ".join(
        schema_editor.quote_name(model._meta.get_field(field).column) for field in constraint.fields
    )
    table = schema_editor.quote_name(model._meta.db_table)
    where = ""
    if constraint.condition is not None:
        where = f" WHERE {constraint._get_condition_sql(model, schema_editor)}"
    how = "CONCURRENTLY " if concurrently else ""
    return f"CREATE UNIQUE INDEX {how}{name} ON {table} ({columns}){where}"
