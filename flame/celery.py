"""Celery application.

Four queues keep slow work from starving fast work: ``ingest`` (webhook processing), ``outbound``
(provider sends), ``ai`` (LLM replies and analysis) and ``default``. A worker per queue group is
started in docker-compose.yml; tasks declare their queue with ``queue=`` at definition.
Without a broker (embedded default) tasks run inline, see CELERY_TASK_ALWAYS_EAGER.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun, worker_process_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

app = Celery("flame")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("ingest", "outbound", "ai", "default")]
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**_kwargs) -> None:
    """Workers log the same JSON lines as the web processes (settings.LOGGING)."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_process_init.connect
def _freeze_startup_objects(**_kwargs) -> None:
    """Each pool process, once forked with the app loaded (flame/runtime.py)."""
    from flame.runtime import startup_objects_frozen

    startup_objects_frozen()


@task_prerun.connect
@task_postrun.connect
def _connections_checked_like_a_request(sender=None, **_kwargs) -> None:
    """At a task's start and end, what Django does at a request's: close the database
    connections past CONN_MAX_AGE or broken, and check the others' health before their next
    query (CONN_HEALTH_CHECKS). Not inline (the embedded default): there the task runs inside
    the caller's request, maybe inside its transaction."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
