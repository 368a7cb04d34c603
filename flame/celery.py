"""Celery application.

Four queues keep slow work from starving fast work: ``ingest`` (webhook processing), ``outbound``
(provider sends), ``ai`` (LLM replies and analysis) and ``default``. A worker per queue group is
started in docker-compose.yml; tasks declare their queue with ``queue=`` at definition.
Without a broker (embedded default) tasks run inline, see CELERY_TASK_ALWAYS_EAGER.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import setup_logging, worker_process_init
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
