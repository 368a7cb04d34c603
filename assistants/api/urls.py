from __future__ import annotations

from django.urls import re_path

from assistants.api import views
from flame.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("assistants", views.AssistantViewSet, basename="assistant")
router.register("ai/conversations", views.PlaygroundConversationViewSet, basename="ai-conversation")

urlpatterns = [
    re_path(r"^ai/usage/?$", views.AIUsageView.as_view(), name="ai-usage"),
    re_path(r"^ai/models/?$", views.AIModelsView.as_view(), name="ai-models"),
    re_path(r"^ai/status/?$", views.AIStatusView.as_view(), name="ai-status"),
    re_path(r"^ai/chat/?$", views.AIChatView.as_view(), name="ai-chat"),
    re_path(
        r"^conversations/(?P<pk>[0-9a-fA-F-]{32,36})/suggest-reply/?$",
        views.ReplySuggestionView.as_view(),
        name="conversation-suggest-reply",
    ),
    *router.urls,
]
