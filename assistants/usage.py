"""Metered LLM calls: plan quota before, an AIUsage row after, whatever the outcome.

``ai_call`` is the one door to the providers for the rest of the app. The quota is a daily
ledger row per workspace (AIDailyUsage) and a request is *reserved* by a conditional UPDATE
(``requests < limit and tokens < limit``), so concurrent workers cannot overshoot the request
limit; tokens are only known after the call, so a day may end one call's tokens over the
limit. The day is the workspace's local day. Calls to the local provider are recorded but not
metered: they cost nothing and never leave the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F
from django.utils import timezone

from accounts.models import Workspace
from assistants import conf, llm
from assistants.models import AIDailyUsage, AIUsage, Assistant
from assistants.schedule import workspace_zone
from flame import metrics

MILLION = Decimal(1_000_000)


class QuotaExceeded(llm.LLMError):
    def __init__(self) -> None:
        super().__init__("quota_exceeded", "The workspace's daily AI quota is used up.")


@dataclass(frozen=True)
class CallContext:
    workspace: Workspace
    purpose: str
    assistant: Assistant | None = None
    conversation: object | None = None


def local_day(workspace: Workspace, at: datetime) -> date:
    return at.astimezone(workspace_zone(workspace.timezone)).date()


def usage_cost(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    price = conf.prices().get(model)
    if price is None:
        return Decimal(0)
    cost = (prompt_tokens * price["prompt"] + completion_tokens * price["completion"]) / MILLION
    return cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _ledger(workspace: Workspace, day: date) -> AIDailyUsage:
    row, _ = AIDailyUsage.objects.get_or_create(workspace=workspace, day=day)
    return row


def quota_reserve(*, workspace: Workspace, at: datetime) -> bool:
    """Count one request for today if the plan allows it; False when the day's quota is used."""
    limits = conf.plan_limits(workspace.plan)
    ledger = AIDailyUsage.objects.filter(pk=_ledger(workspace, local_day(workspace, at)).pk)
    if limits is not None:
        ledger = ledger.filter(requests__lt=limits["requests"], tokens__lt=limits["tokens"])
    return ledger.update(requests=F("requests") + 1) == 1


def _add_tokens(workspace: Workspace, at: datetime, tokens: int) -> None:
    if tokens:
        AIDailyUsage.objects.filter(workspace=workspace, day=local_day(workspace, at)).update(
            tokens=F("tokens") + tokens
        )


# Rows kept for one INSERT when ``usage_recorded_together`` ends (None: write each at once).
_recorded_together: ContextVar[list[AIUsage] | None] = ContextVar(
    "ai_usage_recorded_together", default=None
)


@contextmanager
def usage_recorded_together() -> Iterator[None]:
    """The usage rows of the calls made inside are written together, in one INSERT, when it
    ends (however it ends). A chunk of analyses with the local model makes fifty calls in a few
    milliseconds: a row each was a tenth of the worker's time under a burst."""
    rows: list[AIUsage] = []
    reset = _recorded_together.set(rows)
    try:
        yield
    finally:
        _recorded_together.reset(reset)
        if rows:
            AIUsage.objects.bulk_create(rows)


def usage_record(
    *,
    context: CallContext,
    provider: str,
    model: str,
    completion: llm.Completion | None = None,
    error: llm.LLMError | None = None,
) -> AIUsage:
    prompt = completion.prompt_tokens if completion else 0
    output = completion.completion_tokens if completion else 0
    usage = AIUsage(
        workspace=context.workspace,
        assistant=context.assistant,
        conversation=context.conversation,
        purpose=context.purpose,
        provider=provider,
        model=(completion.model if completion else model)[:100],
        prompt_tokens=prompt,
        completion_tokens=output,
        cost=usage_cost(completion.model if completion else model, prompt, output),
        latency_ms=completion.latency_ms if completion else (error.latency_ms if error else 0),
        succeeded=error is None,
        error_code=error.code if error else "",
        created_at=timezone.now(),
    )
    together = _recorded_together.get()
    if together is None:
        usage.save(force_insert=True)
    else:
        together.append(usage)
    metrics.ai_call_recorded(
        provider=provider,
        purpose=context.purpose,
        succeeded=error is None,
        prompt=prompt,
        completion=output,
        cost=usage.cost,
    )
    return usage


def ai_call(
    *,
    context: CallContext,
    model: str,
    call: Callable[[llm.OpenAIProvider | llm.LocalProvider], llm.Completion],
) -> llm.Completion:
    """Run ``call`` against the configured provider: quota first, usage recorded after.

    Never inside a transaction: the call may take as long as the client's timeout times its retries.
    Raises QuotaExceeded (nothing called, nothing recorded) or LLMError (recorded).
    """
    provider, started = _provider_within_quota(context)
    try:
        completion = call(provider)
    except llm.LLMError as error:
        usage_record(context=context, provider=provider.name, model=model, error=error)
        raise
    _completed(context, provider, model, started, completion)
    return completion


Provider = llm.OpenAIProvider | llm.LocalProvider


def _provider_within_quota(context: CallContext) -> tuple[Provider, datetime]:
    provider = llm.provider()
    started = timezone.now()
    if provider.metered and not quota_reserve(workspace=context.workspace, at=started):
        raise QuotaExceeded()
    return provider, started


def _completed(
    context: CallContext,
    provider: Provider,
    model: str,
    started: datetime,
    completion: llm.Completion,
) -> None:
    usage_record(context=context, provider=provider.name, model=model, completion=completion)
    if provider.metered:
        _add_tokens(
            context.workspace, started, completion.prompt_tokens + completion.completion_tokens
        )


def ai_stream(
    *,
    context: CallContext,
    model: str,
    start: Callable[[Provider], Iterator[str | llm.Completion]],
) -> Generator[str | llm.Completion]:
    """``ai_call`` for an answer streamed as it is written (text pieces, then the Completion).

    The quota is reserved and the request sent before this returns, so QuotaExceeded and a
    refused request (LLMError, recorded) are raised here, before anything was streamed. Usage
    is recorded when the stream ends: its tokens like any call's; a failure, or a client that
    went away mid-answer ("cancelled"), as a failed call.
    """
    provider, started = _provider_within_quota(context)
    try:
        pieces = start(provider)
    except llm.LLMError as error:
        usage_record(context=context, provider=provider.name, model=model, error=error)
        raise
    return _metered(context, provider, model, started, pieces)


def _metered(
    context: CallContext,
    provider: Provider,
    model: str,
    started: datetime,
    pieces: Iterator[str | llm.Completion],
) -> Generator[str | llm.Completion]:
    recorded = False
    try:
        for piece in pieces:
            if isinstance(piece, llm.Completion):
                _completed(context, provider, model, started, piece)
                recorded = True
            yield piece
    except llm.LLMError as error:
        usage_record(context=context, provider=provider.name, model=model, error=error)
        raise
    except GeneratorExit:
        if not recorded:
            cancelled = llm.LLMError("cancelled", "The client went away mid-answer.")
            usage_record(context=context, provider=provider.name, model=model, error=cancelled)
        raise
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # the provider's response, when the answer was not read to its end
