from __future__ import annotations

from django.urls import re_path

from satisfaction.api import views

urlpatterns = [
    re_path(
        r"^conversations/(?P<pk>[0-9a-fA-F-]{32,36})/rating/?$",
        views.ConversationRatingView.as_view(),
        name="conversation-rating",
    ),
]
