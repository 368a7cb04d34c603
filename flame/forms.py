"""What the server-rendered forms of every app share: the API's serializers check the input, and
a service's refusal is shown on the form in the page's language.

Each app keeps its own map of friendlier words (``messages``): keys are a refusal's ``code``
(``"email_taken"``) or a field name (``"ai_prompt"``), values the words to show for the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from rest_framework import serializers

from flame.exceptions import ApplicationError


def apply_serializer(form: forms.Form, serializer: serializers.Serializer) -> dict[str, Any]:
    """Validate with an API serializer; its errors become the form's. Returns validated data
    (empty when invalid)."""
    if serializer.is_valid():
        return dict(serializer.validated_data)
    for field, problems in serializer.errors.items():
        target = field if field in form.fields else None
        words = problems if isinstance(problems, list) else [str(problems)]
        form.add_error(target, [str(word) for word in words])
    return {}


def service_message(error: ApplicationError, messages: Mapping[str, Any] | None = None) -> str:
    """The refusal in the page's language when the page knows its code, else the service's."""
    return str((messages or {}).get(error.code) or error.message)


def add_service_errors(
    form: forms.Form, error: ApplicationError, messages: Mapping[str, Any] | None = None
) -> None:
    """Show a refused service call on the form: each problem on the field it names, the rest
    on top.

    A field's own entry in ``messages`` replaces the service's details for that field; an entry
    for the error's code replaces them on every field the error names (the page's wording of a
    known refusal is preferred over the service's English).
    """
    messages = messages or {}
    for_code = messages.get(error.code)
    details = {
        field: problems
        for field, problems in (error.details or {}).items()
        if isinstance(problems, list | tuple)
    }
    shown = False
    for field, problems in details.items():
        words = messages.get(field) or for_code or [str(problem) for problem in problems]
        if field in form.fields:
            form.add_error(field, words)
            shown = True
        elif for_code is None:
            form.add_error(None, words)
            shown = True
    if not shown:
        form.add_error(None, service_message(error, messages))


def form_refusal(
    form: forms.Form, service: Callable[..., object], messages: Mapping[str, Any] | None = None
) -> int | None:
    """Call ``service`` with the form's cleaned data when the form is valid (bind the rest with
    ``functools.partial``; the form's fields win over the partial's defaults).

    None when it went through; otherwise the status the page answers with — 400 for invalid
    input, the service's own for a refusal, which is then shown on the form.
    """
    if not form.is_valid():
        return 400
    try:
        service(**form.cleaned_data)
    except ApplicationError as exc:
        add_service_errors(form, exc, messages)
        return exc.status_code
    return None
