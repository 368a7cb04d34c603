"""Workspace tags: create, rename and recolour, merge, delete, and find-or-create by name."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import User
from conversations.models import Conversation, Tag
from conversations.services.events import conversation_updated
from flame.exceptions import ConflictError, InvalidInput


def tags_load_into(conversations: list[Conversation]) -> None:
    """What ``prefetch_related_objects(conversations, "tags")`` leaves, from the same one query,
    for every conversation a batch of messages or of analyses touches. Django's prefetch also
    builds a filtered queryset for each conversation (a query cloned and filtered); here each
    gets a plain queryset holding its tags, cached as Django's prefetch caches them."""
    tags: dict = {conversation.pk: [] for conversation in conversations}
    links = Conversation.tags.through.objects.filter(conversation_id__in=list(tags))
    for link in links.select_related("tag").order_by("tag__name"):  # Tag's ordering
        tags[link.conversation_id].append(link.tag)
    for conversation in conversations:
        cached = Tag.objects.all()
        cached._result_cache = tags[conversation.pk]
        prefetched = conversation.__dict__.setdefault("_prefetched_objects_cache", {})
        prefetched["tags"] = cached


def tags_named(workspace_id, names) -> list[Tag]:
    """The workspace's tags with these names (trimmed, matched case-insensitively), created
    where missing, in the order given."""
    return list(tags_by_name(workspace_id, names).values())


def tags_by_name(workspace_id, names) -> dict[str, Tag]:
    """{name, trimmed: the workspace's tag of that name}, created where missing. The existing
    ones come in one query, whatever their number."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if not wanted:
        return {}
    matches = Q()
    for name in wanted:
        matches |= Q(name__iexact=name)
    rows = Tag.objects.filter(matches, workspace_id=workspace_id)
    found = {tag.name.lower(): tag for tag in rows}
    return {name: found.get(name.lower()) or _tag_named(workspace_id, name) for name in wanted}


def _tag_named(workspace_id, name: str) -> Tag:
    """One tag, found (where the database's case folding differs from Python's) or created."""
    existing = Tag.objects.filter(workspace_id=workspace_id, name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(workspace_id=workspace_id, name=name)
    except IntegrityError:  # created by someone else a moment ago
        return Tag.objects.get(workspace_id=workspace_id, name__iexact=name)


def _tag_conflict() -> ConflictError:
    return ConflictError(
        "A tag with this name already exists.",
        code="tag_exists",
        details={"name": ["Already exists."]},
    )


@transaction.atomic
def tag_create(*, by: User, name: str, color: str | None = None) -> Tag:
    try:
        with transaction.atomic():
            return Tag.objects.create(
                workspace_id=by.member_workspace_id,
                name=name.strip(),
                **({"color": color} if color else {}),
            )
    except IntegrityError as exc:
        raise _tag_conflict() from exc


@transaction.atomic
def tag_update(*, tag: Tag, name: str | None = None, color: str | None = None) -> Tag:
    if name is not None:
        tag.name = name.strip()
    if color is not None:
        tag.color = color
    try:
        with transaction.atomic():
            tag.save(update_fields=["name", "color"])
    except IntegrityError as exc:
        raise _tag_conflict() from exc
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    tag.delete()


@transaction.atomic
def tag_merge(*, source: Tag, target: Tag) -> Tag:
    """Fold ``source`` into ``target``: its conversations get ``target`` (if they lack it) and
    ``source`` is deleted; each conversation changed is announced, so lists re-badge it."""
    if source.pk == target.pk or source.workspace_id != target.workspace_id:
        raise InvalidInput("Invalid input.", details={"into": ["Choose another tag."]})
    through = Conversation.tags.through
    moved = list(Conversation.objects.filter(tags=source).values_list("pk", flat=True))
    having_target = set(
        through.objects.filter(tag=target, conversation_id__in=moved).values_list(
            "conversation_id", flat=True
        )
    )
    through.objects.bulk_create(
        [through(conversation_id=pk, tag=target) for pk in moved if pk not in having_target]
    )
    source.delete()
    for conversation in Conversation.objects.filter(pk__in=moved).order_by("pk"):
        conversation_updated(conversation)
    return target
