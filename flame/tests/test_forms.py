"""The shared form helpers: a service's refusal shown on a page's form, in the page's words."""

from __future__ import annotations

from django import forms
from rest_framework import serializers

from flame.exceptions import ConflictError, InvalidInput
from flame.forms import add_service_errors, apply_serializer, service_message


class _Form(forms.Form):
    email = forms.CharField(required=False)
    name = forms.CharField(required=False)


def _errors(error, messages=None) -> dict:
    form = _Form(data={})
    assert form.is_valid()
    add_service_errors(form, error, messages)
    return dict(form.errors)


def test_details_go_on_their_fields_and_the_rest_on_top():
    error = InvalidInput(
        "Invalid input.",
        details={"email": ["Bad address."], "settings": ["Unknown key."], "hint": "not a list"},
    )

    assert _errors(error) == {"email": ["Bad address."], "__all__": ["Unknown key."]}


def test_the_page_words_for_a_code_replace_the_service_details():
    error = ConflictError("Taken.", code="email_taken", details={"email": ["Taken."]})

    assert _errors(error, {"email_taken": "Ya existe."}) == {"email": ["Ya existe."]}


def test_the_page_words_for_a_field_replace_its_details():
    error = InvalidInput("Invalid input.", details={"name": ["Required."]})

    assert _errors(error, {"name": "Pon un nombre."}) == {"name": ["Pon un nombre."]}


def test_a_refusal_without_a_field_is_on_top_in_the_page_words_when_known():
    error = ConflictError("Last admin.", code="last_admin")

    assert _errors(error) == {"__all__": ["Last admin."]}
    assert _errors(error, {"last_admin": "Último admin."}) == {"__all__": ["Último admin."]}
    assert service_message(error, {"last_admin": "Último admin."}) == "Último admin."
    assert service_message(error) == "Last admin."


def test_a_known_code_naming_only_unknown_fields_is_shown_once_on_top():
    error = ConflictError("Taken.", code="account_taken", details={"account": ["Taken."]})

    assert _errors(error, {"account_taken": "Ocupada."}) == {"__all__": ["Ocupada."]}


class _Serializer(serializers.Serializer):
    email = serializers.EmailField()
    other = serializers.IntegerField()


def test_apply_serializer_returns_the_data_or_puts_the_errors_on_the_form():
    form = _Form(data={})
    assert form.is_valid()

    valid = apply_serializer(form, _Serializer(data={"email": "a@b.example", "other": "3"}))
    invalid = apply_serializer(form, _Serializer(data={"email": "nope", "other": "x"}))

    assert valid == {"email": "a@b.example", "other": 3}
    assert invalid == {}
    assert dict(form.errors) == {
        "email": ["Enter a valid email address."],
        "__all__": ["A valid integer is required."],
    }
