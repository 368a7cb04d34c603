"""Every long-running process freezes what start-up left alive (flame/runtime.py): checked in a
process of its own, as gunicorn, daphne and Celery's pool start one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flame.testing import ROOT

FROZEN_AT_LEAST = 50_000  # a loaded app is a few hundred thousand objects

STARTS = {
    "gunicorn worker": "import flame.wsgi",
    "daphne": "import flame.asgi",
    # The worker sets Django up (Celery's Django fix-up) before it forks its pool.
    "celery pool process": (
        "import django; from flame.celery import app; django.setup(); "
        "from celery.signals import worker_process_init; worker_process_init.send(sender=None)"
    ),
}


@pytest.mark.parametrize("process", list(STARTS))
def test_a_started_process_leaves_its_startup_objects_out_of_garbage_collection(process):
    code = f"{STARTS[process]}; import gc; print(gc.get_freeze_count())"

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) >= FROZEN_AT_LEAST
