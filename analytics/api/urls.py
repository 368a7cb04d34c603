from __future__ import annotations

from django.urls import re_path

from analytics.api import views

urlpatterns = [
    re_path(r"^analytics/dashboard/?$", views.DashboardView.as_view(), name="analytics-dashboard"),
    re_path(
        r"^analytics/conversations/?$",
        views.ConversationSeriesView.as_view(),
        name="analytics-conversations",
    ),
    re_path(
        r"^analytics/response-time/?$",
        views.ResponseTimeView.as_view(),
        name="analytics-response-time",
    ),
    re_path(r"^analytics/usage/?$", views.UsageView.as_view(), name="analytics-usage"),
    re_path(
        r"^analytics/assistants/?$", views.AssistantsView.as_view(), name="analytics-assistants"
    ),
    re_path(
        r"^analytics/satisfaction/?$",
        views.SatisfactionView.as_view(),
        name="analytics-satisfaction",
    ),
    re_path(r"^analytics/export\.csv$", views.ExportView.as_view(), name="analytics-export"),
]
