from django.urls import path

from billing.web import views

urlpatterns = [
    path("", views.billing, name="settings-billing"),
    path("subscribe/", views.subscribe, name="settings-billing-subscribe"),
    path("cancel/", views.cancel, name="settings-billing-cancel"),
    path("portal/", views.portal, name="settings-billing-portal"),
    path("notices/<uuid:notice_id>/dismiss/", views.notice_dismiss, name="notice-dismiss-page"),
]
