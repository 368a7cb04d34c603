from django.urls import path

from conversations.web import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<uuid:conversation_id>/", views.inbox, name="inbox-conversation"),
]
