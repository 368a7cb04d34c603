from django.urls import path

from assistants.web import views

urlpatterns = [path("", views.assistant_list, name="settings-assistants")]
