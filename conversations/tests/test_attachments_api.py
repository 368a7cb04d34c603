"""Files of messages through the API: private (members who see the conversation, or a signed
link that expires), listed on every message, and sent by agents as multipart — checked against
the channel's limits and read from their bytes before anything is stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.switches import AGENTS_SEE_UNASSIGNED
from conversations.files import signed_path
from conversations.models import Attachment, ContactIdentity, Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from conversations.tests.media_samples import EXE, OGG, PDF, png, sha256_hex
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

PHOTO = png()


def stored_files() -> list[str]:
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def kept_file(message: Message, content: bytes, *, mime: str, name: str, kind: str) -> Attachment:
    attachment = Attachment(
        message=message,
        workspace_id=message.workspace_id,
        kind=kind,
        mime_type=mime,
        size=len(content),
        file_name=name,
        sha256=sha256_hex(content),
        status=Attachment.Status.READY,
    )
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.save()
    return attachment


@pytest.fixture
def conversation(workspace):
    return ConversationFactory(workspace=workspace)


@pytest.fixture
def photo(conversation):
    message = MessageFactory(conversation=conversation, content="El paquete llegó así")
    return kept_file(message, PHOTO, mime="image/png", name="paquete.png", kind="image")


@pytest.fixture
def invoice(conversation):
    message = MessageFactory(conversation=conversation, content="")
    return kept_file(message, PDF, mime="application/pdf", name="factura 8841.pdf", kind="document")


# --- serving: members only -----------------------------------------------------------------------


def test_a_member_gets_the_image_inline_with_safe_headers(admin_client, photo):
    response = admin_client.get(f"/api/attachments/{photo.pk}/file")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PHOTO
    assert (
        response["Content-Type"],
        response["Content-Disposition"],
        response["X-Content-Type-Options"],
        response["Content-Security-Policy"],
    ) == ("image/png", 'inline; filename="paquete.png"', "nosniff", "default-src 'none'; sandbox")


def test_a_document_is_always_a_download(admin_client, invoice):
    response = admin_client.get(f"/api/attachments/{invoice.pk}/file")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="factura 8841.pdf"'


def test_a_page_session_loads_the_file_too(client, admin_user, photo):
    # <img src> in the inbox sends the session cookie, not a token.
    client.force_login(admin_user)

    response = client.get(f"/api/attachments/{photo.pk}/file", HTTP_ACCEPT="image/avif,image/*")

    assert response.status_code == 200


def test_another_workspace_gets_404(outsider_client, photo):
    response = outsider_client.get(f"/api/attachments/{photo.pk}/file")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_agent_who_cannot_see_the_conversation_gets_404(agent_client, workspace, photo):
    # Unassigned, and the workspace does not show agents the queue.
    assert not AGENTS_SEE_UNASSIGNED.is_on(workspace)

    response = agent_client.get(f"/api/attachments/{photo.pk}/file")

    assert response.status_code == 404


def test_nobody_signed_out_gets_the_file(anonymous_client, photo):
    response = anonymous_client.get(f"/api/attachments/{photo.pk}/file")

    assert response.status_code == 401


def test_a_file_still_downloading_is_not_served(admin_client, conversation):
    message = MessageFactory(conversation=conversation)
    pending = Attachment.objects.create(
        message=message, workspace_id=message.workspace_id, kind="image", source_id="77"
    )

    response = admin_client.get(f"/api/attachments/{pending.pk}/file")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "file_not_available"


def test_a_signed_link_serves_the_file_to_anyone_until_it_expires(photo, settings):
    path = signed_path(photo)

    fresh = Client().get(path)
    settings.MEDIA_SIGNED_URL_SECONDS = -1
    expired = Client().get(path)

    assert fresh.status_code == 200
    assert b"".join(fresh.streaming_content) == PHOTO
    assert expired.status_code == 404


def test_a_tampered_signed_link_is_refused(photo, invoice):
    token = signed_path(photo).split("/")[-2]
    forged = f"{invoice.pk!s}:{token.split(':', 1)[1]}"

    assert Client().get(f"/media/s/{forged}/").status_code == 404


# --- messages carry their files ------------------------------------------------------------------


def test_messages_list_their_attachments(admin_client, conversation, photo):
    response = admin_client.get(f"/api/conversations/{conversation.pk}/messages")

    (message,) = response.json()["results"]
    assert message["attachments"] == [
        {
            "id": str(photo.pk),
            "kind": "image",
            "mime_type": "image/png",
            "size": len(PHOTO),
            "file_name": "paquete.png",
            "caption": "",
            "url": f"/api/attachments/{photo.pk}/file",
            "status": "ready",
            "error_code": "",
            "error_message": "",
        }
    ]


# --- agents send files ---------------------------------------------------------------------------


@pytest.fixture
def sandbox_conversation(workspace):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    conversation = ConversationFactory(workspace=workspace, integration=sandbox)
    ContactIdentity.objects.create(
        contact=conversation.contact, integration=sandbox, external_id="+5215500000001"
    )
    return conversation


def channel_conversation(workspace, platform: str, credentials: dict):
    integration = IntegrationFactory(
        workspace=workspace, platform=platform, credentials=credentials
    )
    conversation = ConversationFactory(
        workspace=workspace,
        integration=integration,
        platform=platform,
        last_customer_message_at=timezone.now() - timedelta(minutes=5),
    )
    ContactIdentity.objects.create(
        contact=conversation.contact, integration=integration, external_id="5215587654321"
    )
    return conversation


def upload(client, conversation, data: bytes, name: str, mime: str, **fields):
    file = SimpleUploadedFile(name, data, content_type=mime)
    return client.post(
        f"/api/conversations/{conversation.pk}/messages",
        {"file": file, **fields},
        format="multipart",
    )


def test_an_agent_sends_an_image_with_a_caption(
    admin_client, sandbox_conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            admin_client, sandbox_conversation, PHOTO, "muestra.png", "image/png", content="Así"
        )

    assert response.status_code == 201, response.content
    body = response.json()
    (attachment,) = body["attachments"]
    stored = Attachment.objects.get()
    assert (body["type"], body["content"], body["sender"]) == ("image", "Así", "agent")
    assert attachment == {
        "id": str(stored.pk),
        "kind": "image",
        "mime_type": "image/png",
        "size": len(PHOTO),
        "file_name": "muestra.png",
        "caption": "Así",
        "url": f"/api/attachments/{stored.pk}/file",
        "status": "ready",
        "error_code": "",
        "error_message": "",
    }
    with default_storage.open(stored.file.name, "rb") as kept:
        assert kept.read() == PHOTO
    assert Message.objects.get().status == "sent"  # the sandbox took it


def test_a_photo_can_be_sent_as_a_document(admin_client, sandbox_conversation):
    response = upload(
        admin_client, sandbox_conversation, PHOTO, "plano.png", "image/png", type="file"
    )

    assert response.status_code == 201
    assert (response.json()["type"], response.json()["attachments"][0]["kind"]) == (
        "file",
        "document",
    )


def test_a_program_is_refused_and_nothing_is_kept(admin_client, sandbox_conversation):
    response = upload(admin_client, sandbox_conversation, EXE, "factura.pdf", "application/pdf")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "file": ["Programs and scripts are not accepted."]
    }
    assert (Message.objects.count(), Attachment.objects.count(), stored_files()) == (0, 0, [])


def test_another_workspace_cannot_send_a_file(outsider_client, sandbox_conversation):
    response = upload(outsider_client, sandbox_conversation, PHOTO, "a.png", "image/png")

    assert response.status_code == 404
    assert (Message.objects.count(), stored_files()) == (0, [])


WHATSAPP = {"access_token": "t", "phone_number_id": "113948276501234", "app_secret": "s"}


@pytest.mark.parametrize(
    ("content", "name", "mime", "fields", "refusal"),
    [
        (
            PHOTO + bytes(6 * 1024 * 1024),
            "grande.png",
            "image/png",
            {},
            "The file is 6 MB; WhatsApp accepts image files of up to 5 MB.",
        ),
        (
            b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(64),
            "sticker.webp",
            "image/webp",
            {},
            "WhatsApp takes image files as JPEG, PNG only: send it as a document.",
        ),
        (
            OGG,
            "nota.ogg",
            "audio/ogg",
            {"content": "Escúchalo"},
            "WhatsApp audio messages cannot carry text: send the text on its own.",
        ),
    ],
)
def test_whatsapp_limits_are_checked_before_anything_is_stored(
    admin_client, workspace, content, name, mime, fields, refusal
):
    conversation = channel_conversation(workspace, "whatsapp", WHATSAPP)

    response = upload(admin_client, conversation, content, name, mime, **fields)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"file": [refusal]}
    assert (Message.objects.count(), stored_files()) == (0, [])


def test_telegram_captions_are_limited(admin_client, workspace):
    conversation = channel_conversation(workspace, "telegram", {"bot_token": "1:x"})

    response = upload(admin_client, conversation, PHOTO, "a.png", "image/png", content="x" * 1025)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "file": ["Telegram captions have at most 1024 characters."]
    }


def test_our_own_upload_cap_holds_for_every_channel(admin_client, sandbox_conversation, settings):
    settings.MEDIA_UPLOAD_MAX_BYTES = 1000

    response = upload(admin_client, sandbox_conversation, PHOTO + bytes(1000), "a.png", "image/png")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"file": ["Files can be up to 1000 bytes."]}


def test_a_body_far_over_the_cap_is_refused_before_it_is_read(
    admin_client, sandbox_conversation, settings
):
    settings.MEDIA_UPLOAD_MAX_BYTES = 1000
    settings.MAX_REQUEST_BODY_BYTES = 1000

    response = upload(admin_client, sandbox_conversation, bytes(5000), "a.bin", "image/png")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert Message.objects.count() == 0
