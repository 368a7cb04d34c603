from __future__ import annotations

from django.urls import re_path

from conversations.api import contact_merge, views, workbench
from flame.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("tags", views.TagViewSet, basename="tag")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register(
    "contact-attributes", workbench.ContactAttributeViewSet, basename="contact-attribute"
)

ID = r"(?P<pk>[0-9a-fA-F-]{32,36})"

urlpatterns = [
    re_path(r"^events/?$", views.EventListView.as_view(), name="events"),
    re_path(
        r"^attachments/(?P<attachment_id>[0-9a-fA-F-]{32,36})/file/?$",
        views.AttachmentFileView.as_view(),
        name="attachment-file",
    ),
    re_path(
        r"^attachments/(?P<attachment_id>[0-9a-fA-F-]{32,36})/retry/?$",
        views.AttachmentRetryView.as_view(),
        name="attachment-retry",
    ),
    re_path(r"^conversations/bulk/?$", workbench.BulkView.as_view(), name="conversation-bulk"),
    re_path(
        r"^conversations/counts/?$",
        workbench.UnreadCountsView.as_view(),
        name="conversation-counts",
    ),
    re_path(
        rf"^conversations/{ID}/notes/?$",
        workbench.NoteListView.as_view(),
        name="conversation-notes",
    ),
    re_path(
        rf"^conversations/{ID}/snooze/?$",
        workbench.SnoozeView.as_view(),
        name="conversation-snooze",
    ),
    re_path(
        rf"^conversations/{ID}/unsnooze/?$",
        workbench.UnsnoozeView.as_view(),
        name="conversation-unsnooze",
    ),
    re_path(
        rf"^conversations/{ID}/activity/?$",
        workbench.ActivityListView.as_view(),
        name="conversation-activity",
    ),
    re_path(
        rf"^contacts/{ID}/conversations/?$",
        workbench.ContactConversationsView.as_view(),
        name="contact-conversations",
    ),
    re_path(rf"^tags/{ID}/merge/?$", workbench.TagMergeView.as_view(), name="tag-merge"),
    re_path(
        r"^contacts/duplicates/?$",
        contact_merge.DuplicateListView.as_view(),
        name="contact-duplicates",
    ),
    re_path(
        r"^contacts/duplicates/dismiss/?$",
        contact_merge.DuplicateDismissView.as_view(),
        name="contact-duplicates-dismiss",
    ),
    re_path(
        rf"^contacts/{ID}/merge/?$", contact_merge.ContactMergeView.as_view(), name="contact-merge"
    ),
    re_path(
        r"^contact-merges/?$", contact_merge.ContactMergeListView.as_view(), name="contact-merges"
    ),
    re_path(
        rf"^contact-merges/{ID}/undo/?$",
        contact_merge.ContactMergeUndoView.as_view(),
        name="contact-merge-undo",
    ),
    *router.urls,
]
