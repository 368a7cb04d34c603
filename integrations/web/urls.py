from django.urls import path

from integrations.web import views

urlpatterns = [path("", views.integration_list, name="settings-integrations")]
