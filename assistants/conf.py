"""Settings of the assistants app, each with its default.

Read through ``django.conf.settings`` at call time (never cached at import), so tests override
them with pytest-django's ``settings`` fixture and deployments with environment variables that
flame/settings.py maps onto these names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from accounts import plans

# USD per million tokens, (prompt, completion). Unknown models cost 0 (self-hosted servers).
DEFAULT_PRICES: dict[str, dict[str, str]] = {
    "gpt-4o-mini": {"prompt": "0.15", "completion": "0.60"},
    "gpt-4o": {"prompt": "2.50", "completion": "10.00"},
    "gpt-4.1-nano": {"prompt": "0.10", "completion": "0.40"},
    "gpt-4.1-mini": {"prompt": "0.40", "completion": "1.60"},
    "gpt-4.1": {"prompt": "2.00", "completion": "8.00"},
}


def _get(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def openai_api_key() -> str:
    return _get("OPENAI_API_KEY", "") or ""


def openai_base_url() -> str | None:
    return _get("OPENAI_BASE_URL", "") or None


def default_model() -> str:
    return _get("OPENAI_MODEL", "") or "gpt-4o-mini"


def analysis_model() -> str:
    return _get("AI_ANALYSIS_MODEL", "") or default_model()


def openai_timeout_seconds() -> float:
    return float(_get("OPENAI_TIMEOUT_SECONDS", 30.0))


def openai_max_retries() -> int:
    return int(_get("OPENAI_MAX_RETRIES", 2))


def auto_reply_quiet_seconds() -> float:
    return float(_get("AUTO_REPLY_QUIET_SECONDS", 4))


def auto_reply_history_messages() -> int:
    return int(_get("AUTO_REPLY_HISTORY_MESSAGES", 20))


def knowledge_snippets() -> int:
    return int(_get("AI_KNOWLEDGE_SNIPPETS", 3))


def knowledge_match_threshold() -> float:
    return float(_get("KNOWLEDGE_MATCH_THRESHOLD", 0.5))


def analysis_debounce_seconds() -> float:
    return float(_get("AI_ANALYSIS_DEBOUNCE_SECONDS", 10))


def analysis_messages() -> int:
    return int(_get("AI_ANALYSIS_MESSAGES", 30))


def prices() -> dict[str, dict[str, Decimal]]:
    table = _get("AI_PRICES", None) or DEFAULT_PRICES
    return {
        model: {kind: Decimal(str(price.get(kind, 0))) for kind in ("prompt", "completion")}
        for model, price in table.items()
    }


def plan_limits(plan: str) -> dict[str, int] | None:
    """The daily AI quota of ``plan``: defined with the rest of the plan (accounts.plans)."""
    return plans.get(plan).ai_quota()


def llm_worst_case_seconds() -> float:
    """How long one LLM call may take with every retry: the base of task limits and leases."""
    attempts = openai_max_retries() + 1
    # The client sleeps at most 8 s between attempts (openai's MAX_RETRY_DELAY).
    return openai_timeout_seconds() * attempts + 8 * (attempts - 1)


def ai_task_soft_time_limit() -> int:
    return int(_get("AI_TASK_SOFT_TIME_LIMIT", 0) or llm_worst_case_seconds() + 30)


def claim_lease_seconds() -> int:
    """A claimed reply job whose worker died may be claimed again after this long.

    Longer than the task's hard time limit, so a live worker is never overtaken; the claim
    token still fences a late writer out.
    """
    return ai_task_soft_time_limit() + 60
