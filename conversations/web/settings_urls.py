from django.urls import path

from conversations.web import settings_views as views

urlpatterns = [
    path("tags/", views.tags, name="settings-tags"),
    path("tags/<uuid:tag_id>/", views.tag_edit, name="settings-tag"),
    path("tags/<uuid:tag_id>/merge/", views.tag_merge, name="settings-tag-merge"),
    path("tags/<uuid:tag_id>/delete/", views.tag_delete, name="settings-tag-delete"),
    path("contact-attributes/", views.contact_attributes, name="settings-contact-attributes"),
    path(
        "contact-attributes/<uuid:attribute_id>/",
        views.contact_attribute_edit,
        name="settings-contact-attribute",
    ),
    path(
        "contact-attributes/<uuid:attribute_id>/delete/",
        views.contact_attribute_delete,
        name="settings-contact-attribute-delete",
    ),
]
