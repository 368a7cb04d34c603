from django.urls import path

from analytics.web import views

urlpatterns = [path("", views.dashboard, name="dashboard")]
