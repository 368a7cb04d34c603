from django.urls import path

from conversations.web import duplicates, views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<uuid:conversation_id>/", views.inbox, name="inbox-conversation"),
    path("contacts/duplicates/", duplicates.duplicates, name="contact-duplicates-page"),
    path("contacts/duplicates/merge/", duplicates.merge, name="contact-duplicates-merge"),
    path("contacts/duplicates/dismiss/", duplicates.dismiss, name="contact-duplicates-dismiss"),
    path("contacts/merges/<uuid:merge_id>/undo/", duplicates.undo, name="contact-merge-undo-page"),
]
