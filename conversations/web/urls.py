from django.urls import path

from conversations.web import views

urlpatterns = [path("", views.inbox, name="inbox")]
