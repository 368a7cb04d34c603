"""Usage rows recorded together: written in one INSERT when the block ends, however it ends."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assistants import llm, usage
from assistants.models import AIUsage

pytestmark = pytest.mark.django_db


def _call(workspace, fail: bool = False) -> None:
    def answer(provider):
        if fail:
            raise llm.LLMError("timeout", "The model did not answer.")
        return provider.analyze(llm.AnalysisRequest(model="local", transcript=()))

    usage.ai_call(
        context=usage.CallContext(workspace=workspace, purpose=AIUsage.Purpose.ANALYSIS),
        model="local",
        call=answer,
    )


def test_rows_wait_for_the_end_of_the_block_and_go_in_one_insert(workspace):
    with CaptureQueriesContext(connection) as queries, usage.usage_recorded_together():
        _call(workspace)
        _call(workspace)
        assert not AIUsage.objects.exists()

    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert AIUsage.objects.filter(workspace=workspace, succeeded=True).count() == 2


def test_a_failure_inside_the_block_still_records_every_call(workspace):
    def two_calls() -> None:
        with usage.usage_recorded_together():
            _call(workspace)
            _call(workspace, fail=True)

    with pytest.raises(llm.LLMError):
        two_calls()

    assert sorted(AIUsage.objects.values_list("succeeded", flat=True)) == [False, True]


def test_outside_a_block_each_call_is_written_at_once(workspace):
    _call(workspace)

    assert AIUsage.objects.count() == 1
