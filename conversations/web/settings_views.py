"""The workspace's tags and contact attributes (admins): rename, recolour, merge and delete
tags; define, relabel and delete the custom fields every contact has. POST/redirect/GET through
the API's services; a refusal shows the page again with the errors, having changed nothing."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import ValidationError

from accounts.web.access import admin_required
from conversations import selectors, services
from conversations.api.serializers import (
    ContactAttributeUpdateSerializer,
    ContactAttributeWriteSerializer,
    TagMergeSerializer,
    TagWriteSerializer,
)
from conversations.models import ContactAttribute, Tag
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import apply_serializer, form_refusal, service_message

SERVICE_MESSAGES = {
    "tag_exists": gettext_lazy("A tag with this name already exists."),
    "attribute_exists": gettext_lazy("An attribute with this key already exists."),
}


class TagForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    color = forms.CharField(
        label=gettext_lazy("Colour"), widget=forms.TextInput(attrs={"type": "color"})
    )

    def clean(self):
        cleaned = super().clean()
        return apply_serializer(self, TagWriteSerializer(data=cleaned)) or cleaned


class AttributeForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Label"), max_length=80)
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=40,
        help_text=gettext_lazy("Letters, digits, - and _: how the API names it."),
    )
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=ContactAttribute.Type.choices)

    def clean(self):
        cleaned = super().clean()
        return apply_serializer(self, ContactAttributeWriteSerializer(data=cleaned)) or cleaned


# --- tags ----------------------------------------------------------------------------------------


def _tag_or_404(request: HttpRequest, tag_id) -> Tag:
    try:
        return selectors.tag_get_for(user=request.user, tag_id=tag_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _tags_page(request, *, form=None, error: str = "", status: int = 200) -> HttpResponse:
    tags = list(selectors.tag_list_for(user=request.user))
    context = {
        "nav": "workspace",
        "tags": tags,
        "form": form or TagForm(initial={"color": "#6b7280"}),
        "error": error,
    }
    return render(request, "conversations/settings_tags.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def tags(request: HttpRequest) -> HttpResponse:
    """The workspace's tags; POST adds one."""
    if request.method == "GET":
        return _tags_page(request)
    form = TagForm(request.POST)
    create = partial(services.tag_create, by=request.user)
    if status := form_refusal(form, create, SERVICE_MESSAGES):
        return _tags_page(request, form=form, status=status)
    messages.success(request, _("Tag added."))
    return redirect("settings-tags")


@admin_required
@require_POST
def tag_edit(request: HttpRequest, tag_id) -> HttpResponse:
    """Rename and recolour."""
    tag = _tag_or_404(request, tag_id)
    form = TagForm(request.POST)
    if not form.is_valid():
        return _tags_page(request, error=_("A tag needs a name and a colour."), status=400)
    try:
        services.tag_update(tag=tag, **form.cleaned_data)
    except ApplicationError as exc:
        return _tags_page(
            request, error=service_message(exc, SERVICE_MESSAGES), status=exc.status_code
        )
    messages.success(request, _("Tag saved."))
    return redirect("settings-tags")


@admin_required
@require_POST
def tag_merge(request: HttpRequest, tag_id) -> HttpResponse:
    """Fold this tag into another: its conversations get the other one."""
    source = _tag_or_404(request, tag_id)
    data = TagMergeSerializer(data={"into": request.POST.get("into", "")})
    try:
        data.is_valid(raise_exception=True)
        target = selectors.tag_get_for(user=request.user, tag_id=data.validated_data["into"])
        merged = services.tag_merge(source=source, target=target)
    except (ValidationError, NotFoundError, ApplicationError):
        return _tags_page(request, error=_("Choose another tag to merge into."), status=400)
    messages.success(
        request, _("%(old)s merged into %(new)s.") % {"old": source.name, "new": merged.name}
    )
    return redirect("settings-tags")


@admin_required
@require_http_methods(["GET", "POST"])
def tag_delete(request: HttpRequest, tag_id) -> HttpResponse:
    """GET asks for confirmation; POST deletes (conversations lose the tag)."""
    tag = _tag_or_404(request, tag_id)
    if request.method == "GET":
        context = {"nav": "workspace", "tag": tag, "count": tag.conversations.count()}
        return render(request, "conversations/settings_tag_delete.html", context)
    services.tag_delete(tag=tag)
    messages.success(request, _("Tag deleted."))
    return redirect("settings-tags")


# --- contact attributes --------------------------------------------------------------------------


def _attribute_or_404(request: HttpRequest, attribute_id) -> ContactAttribute:
    try:
        return selectors.contact_attribute_get_for(user=request.user, attribute_id=attribute_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _attributes_page(request, *, form=None, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "nav": "workspace",
        "attributes": list(selectors.contact_attribute_list_for(user=request.user)),
        "form": form or AttributeForm(),
        "error": error,
    }
    return render(request, "conversations/settings_contact_attributes.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def contact_attributes(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _attributes_page(request)
    form = AttributeForm(request.POST)
    create = partial(services.contact_attribute_create, by=request.user)
    if status := form_refusal(form, create, SERVICE_MESSAGES):
        return _attributes_page(request, form=form, status=status)
    messages.success(request, _("Attribute added."))
    return redirect("settings-contact-attributes")


@admin_required
@require_POST
def contact_attribute_edit(request: HttpRequest, attribute_id) -> HttpResponse:
    attribute = _attribute_or_404(request, attribute_id)
    data = ContactAttributeUpdateSerializer(data={"label": request.POST.get("label", "")})
    if not data.is_valid():
        return _attributes_page(request, error=_("A label is needed."), status=400)
    services.contact_attribute_update(attribute=attribute, label=data.validated_data["label"])
    messages.success(request, _("Attribute saved."))
    return redirect("settings-contact-attributes")


@admin_required
@require_http_methods(["GET", "POST"])
def contact_attribute_delete(request: HttpRequest, attribute_id) -> HttpResponse:
    attribute = _attribute_or_404(request, attribute_id)
    if request.method == "GET":
        context = {"nav": "workspace", "attribute": attribute}
        return render(request, "conversations/settings_contact_attribute_delete.html", context)
    services.contact_attribute_delete(attribute=attribute)
    messages.success(request, _("Attribute deleted."))
    return redirect("settings-contact-attributes")
