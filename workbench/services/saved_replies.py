"""Saved replies (canned responses): a short code and its text, for the workspace or for one
member. Admins keep the workspace's; every member keeps their own."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from flame.exceptions import ConflictError, InvalidInput, PermissionDeniedError
from workbench.models import SavedReply

MAX_CONTENT = 4096


def _conflict() -> ConflictError:
    return ConflictError(
        "A saved reply with this short code already exists.",
        code="short_code_taken",
        details={"short_code": ["Already in use."]},
    )


def _clean_code(short_code: str) -> str:
    code = short_code.strip().lstrip("/")
    if not code or any(character.isspace() for character in code):
        raise InvalidInput("Invalid input.", details={"short_code": ["One word, without spaces."]})
    return code


def _clean_content(content: str) -> str:
    if not content.strip():
        raise InvalidInput("Invalid input.", details={"content": ["This field may not be blank."]})
    if len(content) > MAX_CONTENT:
        raise InvalidInput(
            "Invalid input.", details={"content": [f"At most {MAX_CONTENT} characters."]}
        )
    return content


def ensure_can_edit(*, by: User, reply: SavedReply) -> None:
    """Personal replies are their owner's; the workspace's are its admins'."""
    if reply.owner_id is None and not by.is_workspace_admin:
        raise PermissionDeniedError("Only workspace admins can change the workspace's replies.")
    if reply.owner_id is not None and reply.owner_id != by.pk:
        raise PermissionDeniedError("This saved reply is someone else's.")


def _save(reply: SavedReply) -> SavedReply:
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError as exc:
        raise _conflict() from exc
    return reply


@transaction.atomic
def saved_reply_create(*, by: User, short_code: str, content: str, personal: bool) -> SavedReply:
    if not personal and not by.is_workspace_admin:
        raise PermissionDeniedError("Only workspace admins can add replies for everyone.")
    reply = SavedReply(
        workspace_id=by.member_workspace_id,
        owner=by if personal else None,
        short_code=_clean_code(short_code),
        content=_clean_content(content),
    )
    return _save(reply)


@transaction.atomic
def saved_reply_update(
    *, by: User, reply: SavedReply, short_code: str | None = None, content: str | None = None
) -> SavedReply:
    ensure_can_edit(by=by, reply=reply)
    if short_code is not None:
        reply.short_code = _clean_code(short_code)
    if content is not None:
        reply.content = _clean_content(content)
    return _save(reply)


@transaction.atomic
def saved_reply_delete(*, by: User, reply: SavedReply) -> None:
    ensure_can_edit(by=by, reply=reply)
    reply.delete()
