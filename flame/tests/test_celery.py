from __future__ import annotations

import pytest
from django.db import connection, transaction

from accounts.models import User
from flame.celery import app


def test_celery_configuration():
    conf = app.conf

    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert sorted(queue.name for queue in conf.task_queues) == [
        "ai",
        "default",
        "ingest",
        "outbound",
    ]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert "accounts.tasks.send_account_email_task" in app.tasks


@app.task
def _noop_task() -> None:
    return None


@pytest.mark.django_db(transaction=True)
def test_an_inline_task_leaves_the_callers_connection_and_transaction_alone(settings):
    # The embedded default runs tasks inline, inside the caller's request and transaction:
    # what a worker does at a task's boundaries (close obsolete connections) must not happen.
    # (SQLite ignores closing its in-memory test database: this bites on PostgreSQL.)
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    with transaction.atomic():
        User.objects.count()
        before = connection.connection

        _noop_task.delay()

        assert connection.connection is before
        assert connection.in_atomic_block
        User.objects.count()
