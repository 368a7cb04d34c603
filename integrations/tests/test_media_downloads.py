"""Customers' files are downloaded and kept (integrations/media.py), against local stand-ins of
the Graph API and the Telegram Bot API: WhatsApp by media id (never the webhook's url), Telegram
through getFile, Messenger and Instagram from their links at once. Size caps, types read from
the bytes, bounded retries, and a failed download that can be tried again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from conversations.models import Attachment, Event, Message
from conversations.tests.media_samples import HTML, PDF, png, sha256_hex
from integrations import ingest, media
from integrations.models import WebhookEvent
from integrations.tasks import download_attachment_task
from integrations.tests.conftest import meta_signature
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_messenger_support import MESSENGER, channel_integration, post_signed
from integrations.tests.test_telegram import SECRET, TOKEN, post_update
from integrations.tests.test_telegram import payload as telegram_payload
from integrations.tests.test_whatsapp import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    deliver,
    whatsapp_integration,
)
from integrations.tests.test_whatsapp import APP_SECRET as WHATSAPP_SECRET
from integrations.tests.test_whatsapp import payload as whatsapp_payload

pytestmark = pytest.mark.django_db

MEDIA_ID = "1044837291038475"  # payloads/whatsapp/image.json
CAPTION = "¿La tienen en este tono de gris?"
LOOKUP_PATH = rf"^/{settings.GRAPH_API_VERSION}/{MEDIA_ID}$"
FILE_PATH = rf"^/whatsapp-media/{MEDIA_ID}$"
PHOTO = png()


@pytest.fixture
def whatsapp(workspace, settings):
    settings.META_APP_SECRET = ""
    return whatsapp_integration(workspace)


def graph_media(fake_api, content: bytes, **answer) -> None:
    """Graph answers the media id with a link on the stand-in, which serves ``content``."""
    found = {
        "messaging_product": "whatsapp",
        "url": f"{fake_api.base_url}/whatsapp-media/{MEDIA_ID}",
        "mime_type": "image/png",
        "sha256": sha256_hex(content),
        "file_size": str(len(content)),
        "id": MEDIA_ID,
        **answer,
    }
    fake_api.respond("GET", LOOKUP_PATH, body=found)
    fake_api.respond("GET", FILE_PATH, body=content, headers={"Content-Type": "image/png"})


def the_attachment() -> Attachment:
    return Attachment.objects.select_related("message").get()


def stored_bytes(attachment: Attachment) -> bytes:
    with default_storage.open(attachment.file.name, "rb") as stored:
        return stored.read()


# --- WhatsApp ------------------------------------------------------------------------------------


def test_whatsapp_image_is_fetched_by_its_media_id_and_kept(
    fake_api, client, whatsapp, django_capture_on_commit_callbacks
):
    graph_media(fake_api, PHOTO)

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (
        attachment.status,
        attachment.kind,
        attachment.mime_type,
        attachment.size,
        attachment.sha256,
        attachment.file_name,
        attachment.caption,
        attachment.source_id,
        attachment.attempts,
    ) == (
        "ready",
        "image",
        "image/png",
        len(PHOTO),
        sha256_hex(PHOTO),
        "image.png",
        CAPTION,
        MEDIA_ID,
        1,
    )
    assert stored_bytes(attachment) == PHOTO
    # Graph first, then its link, both with the token; never the webhook's own url.
    lookup, download = fake_api.calls
    assert (lookup.method, lookup.query, lookup.headers["Authorization"]) == (
        "GET",
        f"phone_number_id={PHONE_NUMBER_ID}",
        f"Bearer {ACCESS_TOKEN}",
    )
    assert (download.path, download.headers["Authorization"]) == (
        f"/whatsapp-media/{MEDIA_ID}",
        f"Bearer {ACCESS_TOKEN}",
    )
    # The inbox learns the file is there.
    update = Event.objects.filter(kind="message:updated").get()
    (shown,) = update.payload["message"]["attachments"]
    assert shown == {
        "id": str(attachment.pk),
        "kind": "image",
        "mime_type": "image/png",
        "size": len(PHOTO),
        "file_name": "image.png",
        "caption": CAPTION,
        "url": f"/api/attachments/{attachment.pk}/file",
        "status": "ready",
        "error_code": "",
        "error_message": "",
    }


def test_a_redelivered_webhook_downloads_nothing_again(
    fake_api, client, whatsapp, django_capture_on_commit_callbacks
):
    graph_media(fake_api, PHOTO)
    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    assert Attachment.objects.count() == 1
    assert len(fake_api.calls) == 2


def test_a_file_larger_than_the_cap_fails_before_it_is_downloaded(
    fake_api, client, whatsapp, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_DOWNLOAD_MAX_BYTES = 100
    graph_media(fake_api, PHOTO)

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code, attachment.error_message) == (
        "failed",
        "too_big",
        "The file is larger than the 100 bytes we keep.",
    )
    assert [call.path for call in fake_api.calls] == [f"/{settings.GRAPH_API_VERSION}/{MEDIA_ID}"]
    assert attachment.file.name == ""


def test_a_file_whose_length_is_over_the_cap_is_dropped_before_it_is_read(
    fake_api, client, whatsapp, settings, django_capture_on_commit_callbacks
):
    # Graph announced no size: the download's own length decides.
    settings.MEDIA_DOWNLOAD_MAX_BYTES = 100
    graph_media(fake_api, PHOTO, file_size="")

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code) == ("failed", "too_big")
    assert len(fake_api.calls) == 2
    assert stored_files() == []


@pytest.mark.parametrize(
    ("content", "code", "reason"),
    [
        (HTML, "file_refused", "Web pages and SVG images are not accepted."),
        (PDF, "wrong_type", "The file is not a valid image (application/pdf)."),
    ],
)
def test_a_file_that_is_not_what_the_message_says_is_refused(
    fake_api, client, whatsapp, django_capture_on_commit_callbacks, content, code, reason
):
    graph_media(fake_api, content)

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code, attachment.error_message) == (
        "failed",
        code,
        reason,
    )
    assert attachment.file.name == ""


def test_a_checksum_mismatch_is_downloaded_again_then_given_up(
    fake_api, client, whatsapp, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 2
    graph_media(fake_api, PHOTO, sha256=sha256_hex(b"another file"))

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code, attachment.attempts) == (
        "failed",
        "checksum",
        2,
    )
    assert len(fake_api.calls) == 4  # two lookups, two downloads


def test_a_server_error_is_retried_with_backoff_and_the_file_then_kept(
    fake_api, client, whatsapp, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 3
    graph_media(fake_api, PHOTO)
    fake_api.respond("GET", FILE_PATH, status=503, body={}, times=1)

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (attachment.status, attachment.attempts, attachment.error_code) == ("ready", 2, "")
    assert stored_bytes(attachment) == PHOTO


def test_a_retryable_failure_reports_when_to_try_again(fake_api, client, whatsapp, settings):
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 3
    graph_media(fake_api, PHOTO)
    fake_api.respond("GET", FILE_PATH, status=500, body={})
    post_without_downloading(client, whatsapp_payload("image"))
    attachment = the_attachment()

    outcome = media.attachment_download(attachment_id=str(attachment.pk))

    assert outcome.status == "retrying"
    assert 2.0 <= outcome.retry_in <= 6.0  # 2^2 s with ±50 % jitter after the first attempt
    attachment.refresh_from_db()
    assert (attachment.status, attachment.attempts, attachment.error_code) == ("pending", 1, "500")


def post_without_downloading(client, body: bytes) -> None:
    """Ingest a webhook without running what it queues after commit (the download)."""
    response = client.post(
        "/api/webhooks/whatsapp",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, WHATSAPP_SECRET),
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.latest("id")
    ingest.webhook_event_process(event_id=event.pk, wait_for_unmatched=False)


def stored_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_an_expired_media_id_fails_at_once(
    fake_api, client, whatsapp, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 3
    error = {"error": {"message": "(#100) Invalid media id", "type": "OAuthException", "code": 100}}
    fake_api.respond("GET", LOOKUP_PATH, status=400, body=error)

    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code, attachment.error_message) == (
        "failed",
        "100",
        "(#100) Invalid media id",
    )
    assert len(fake_api.calls) == 1


# --- Telegram ------------------------------------------------------------------------------------


@pytest.fixture
def telegram(workspace):
    return IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        external_account_id="7012345678",
        credentials={"bot_token": TOKEN, "secret_token": SECRET},
    )


LARGEST_PHOTO = "AgACAAMCBAADGQEAAgSAQADs7kxG3x9f2kq"  # payloads/telegram/photo_message.json


def test_telegram_photo_is_fetched_in_its_largest_size_through_getfile(
    fake_api, client, telegram, django_capture_on_commit_callbacks
):
    fake_api.respond(
        "POST",
        r"/getFile$",
        body={
            "ok": True,
            "result": {
                "file_id": LARGEST_PHOTO,
                "file_unique_id": "AQADs7kxG3",
                "file_size": len(PHOTO),
                "file_path": "photos/file_7.jpg",
            },
        },
    )
    fake_api.respond("GET", r"/file/bot.*/photos/file_7\.jpg$", body=PHOTO)

    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, telegram_payload("photo_message"))

    attachment = the_attachment()
    assert (attachment.status, attachment.mime_type, attachment.caption, attachment.file_name) == (
        "ready",
        "image/png",  # what the bytes are, whatever the path says
        "¿Tenéis este modelo en azul?",
        "file_7.jpg",
    )
    assert stored_bytes(attachment) == PHOTO
    get_file, download = fake_api.calls
    assert (get_file.path, get_file.body) == (f"/bot{TOKEN}/getFile", {"file_id": LARGEST_PHOTO})
    assert download.path == f"/file/bot{TOKEN}/photos/file_7.jpg"


def test_telegram_file_over_the_bot_download_limit_fails_without_retrying(
    fake_api, client, telegram, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 3
    refusal = {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}
    fake_api.respond("POST", r"/getFile$", status=400, body=refusal)

    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, telegram_payload("document_message"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code, attachment.error_message) == (
        "failed",
        "too_big",
        "Telegram lets bots download files of up to 20 MB; this one is larger.",
    )
    assert len(fake_api.calls) == 1
    # The error never names the bot token.
    assert TOKEN not in attachment.error_message


# --- Messenger and Instagram: links that expire --------------------------------------------------


def messenger_image(url: str) -> bytes:
    event = {
        "sender": {"id": MESSENGER.customer_id},
        "recipient": {"id": MESSENGER.account_id},
        "timestamp": 1789482605123,
        "message": {
            "mid": "m_photo_of_the_parcel",
            "attachments": [{"type": "image", "payload": {"url": url}}],
        },
    }
    entry = {"id": MESSENGER.account_id, "time": 1789482605200, "messaging": [event]}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


@pytest.fixture
def page(workspace):
    return channel_integration(workspace, MESSENGER)


def test_messenger_attachment_is_downloaded_from_its_link_at_once(
    fake_api, client, page, django_capture_on_commit_callbacks
):
    fake_api.respond("GET", r"^/cdn/parcel\.png$", body=PHOTO)

    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "facebook", messenger_image(f"{fake_api.base_url}/cdn/parcel.png"))

    attachment = the_attachment()
    assert (attachment.status, attachment.kind, attachment.mime_type) == (
        "ready",
        "image",
        "image/png",
    )
    assert stored_bytes(attachment) == PHOTO
    (download,) = fake_api.calls
    assert "Authorization" not in download.headers  # the link itself is the credential


def test_an_expired_messenger_link_fails_at_once(
    fake_api, client, page, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 4
    fake_api.respond("GET", r"^/cdn/parcel\.png$", status=403, body={})

    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "facebook", messenger_image(f"{fake_api.base_url}/cdn/parcel.png"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code, attachment.error_message) == (
        "failed",
        "expired",
        "The platform's link to this file has expired.",
    )
    assert len(fake_api.calls) == 1


def test_a_link_outside_meta_media_hosts_is_never_fetched(
    fake_api, client, page, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "facebook", messenger_image("https://attacker.example/parcel.png"))

    attachment = the_attachment()
    assert (attachment.status, attachment.error_code) == ("failed", "url_refused")
    assert fake_api.calls == []


# --- a failed download can be tried again ---------------------------------------------------------


@pytest.fixture
def failed_download(fake_api, client, whatsapp, django_capture_on_commit_callbacks):
    graph_media(fake_api, PHOTO)
    fake_api.respond("GET", FILE_PATH, status=500, body={}, times=1)
    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))
    attachment = the_attachment()
    assert (attachment.status, attachment.error_code) == ("failed", "500")
    return attachment


def test_an_agent_retries_a_failed_download_from_the_api(
    fake_api, admin_client, failed_download, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/api/attachments/{failed_download.pk}/retry")

    assert response.status_code == 200
    assert response.json()["status"] == "pending"  # as answered; the download then ran
    failed_download.refresh_from_db()
    assert (failed_download.status, failed_download.attempts) == ("ready", 1)
    assert stored_bytes(failed_download) == PHOTO


def test_another_workspace_cannot_retry_a_download(outsider_client, failed_download):
    response = outsider_client.post(f"/api/attachments/{failed_download.pk}/retry")

    assert response.status_code == 404
    failed_download.refresh_from_db()
    assert (failed_download.status, failed_download.attempts) == ("failed", 1)


def test_only_failed_downloads_can_be_retried(
    admin_client, fake_api, client, whatsapp, django_capture_on_commit_callbacks
):
    graph_media(fake_api, PHOTO)
    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))
    ready = the_attachment()

    response = admin_client.post(f"/api/attachments/{ready.pk}/retry")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_retryable"
    assert len(fake_api.calls) == 2


def test_an_operator_retries_failed_downloads_in_admin(
    client, failed_download, django_capture_on_commit_callbacks
):
    from accounts.tests.factories import UserFactory

    operator = UserFactory(workspace=None, is_staff=True, is_superuser=True)
    client.force_login(operator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/conversations/attachment/",
            {"action": "retry_downloads", "_selected_action": [str(failed_download.pk)]},
        )

    assert response.status_code == 302
    failed_download.refresh_from_db()
    assert failed_download.status == "ready"


def test_the_sweeper_queues_downloads_whose_task_was_lost(
    fake_api, client, whatsapp, django_capture_on_commit_callbacks
):
    graph_media(fake_api, PHOTO)
    post_without_downloading(client, whatsapp_payload("image"))
    Attachment.objects.update(created_at=Attachment.objects.get().created_at.replace(year=2020))

    queued = media.attachment_downloads_sweep()

    assert queued == 1
    assert the_attachment().status == "ready"


def test_the_download_task_runs_on_the_media_queue():
    assert settings.CELERY_TASK_ROUTES["integrations.tasks.download_*"] == {"queue": "media"}
    assert download_attachment_task.name == "integrations.tasks.download_attachment_task"


def test_the_message_keeps_its_caption_while_the_file_downloads(fake_api, client, whatsapp):
    post_without_downloading(client, whatsapp_payload("image"))

    message = Message.objects.get()
    (attachment,) = message.attachments.all()
    assert (message.content, attachment.status, attachment.caption) == (CAPTION, "pending", CAPTION)
    assert fake_api.calls == []  # ingestion itself never waits on the platform
