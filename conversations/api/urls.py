from __future__ import annotations

from django.urls import re_path

from conversations.api import views
from flame.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("tags", views.TagViewSet, basename="tag")
router.register("contacts", views.ContactViewSet, basename="contact")

urlpatterns = [
    re_path(r"^events/?$", views.EventListView.as_view(), name="events"),
    *router.urls,
]
