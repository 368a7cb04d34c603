"""What the Django admin of every app shares: edits that go through the services.

An admin whose ``save_model`` calls services mixes in :class:`ServiceAdminMixin`. A service that
refuses raises inside the admin's transaction, so the whole save is rolled back; the change form
is then shown again, with the user's input and the refusal on it, like any invalid input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin

from flame.exceptions import ApplicationError
from flame.forms import add_service_errors


class _RefusedForm:
    """Mixed into the change form of the second pass: it reports the service's refusal."""

    refusal: ApplicationError
    refusal_words: Mapping[str, Any]

    def clean(self):
        cleaned = super().clean()
        add_service_errors(self, self.refusal, self.refusal_words)
        return cleaned


class ServiceAdminMixin:
    # A service's name for a field (its ``details`` key, e.g. the API's ``agent_id``) → the form
    # field it is shown on.
    service_fields: Mapping[str, str] = {}
    # Refusals in the operator's language, by code or field (see flame.forms.add_service_errors).
    service_messages: Mapping[str, Any] = {}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as refusal:
            # The refusal left the admin's transaction: nothing of this save was kept. The same
            # POST is validated again, now failing with the refusal, so the form is redisplayed.
            request.service_refusal = self._on_form_fields(refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form
        attributes = {"refusal": refusal, "refusal_words": self.service_messages}
        return type(form.__name__, (_RefusedForm, form), attributes)

    def _on_form_fields(self, refusal: ApplicationError) -> ApplicationError:
        details = {
            self.service_fields.get(field, field): problems
            for field, problems in refusal.details.items()
        }
        return type(refusal)(refusal.message, code=refusal.code, details=details)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to operators as the services wrote it: workspaces change these on their own pages
    (or the services append them), where each change is checked and audited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
