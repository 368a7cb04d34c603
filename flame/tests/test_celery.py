from __future__ import annotations

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
