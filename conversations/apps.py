from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ConversationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations"

    def ready(self) -> None:
        from accounts import hooks as accounts_hooks
        from conversations import realtime
        from conversations.search import register_sqlite_functions

        # Search folds text with flame_fold() in SQL; SQLite learns it on every connection.
        connection_created.connect(register_sqlite_functions, dispatch_uid="flame_fold_sqlite")
        accounts_hooks.member_rights_changed.connect(realtime.rights_changed_on_commit)
