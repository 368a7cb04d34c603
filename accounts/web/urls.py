from django.urls import path

from accounts.web import api_key_views, audit_views, holiday_views, settings_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("forgot-password/", views.forgot_password, name="forgot-password"),
    path("reset-password/<str:token>/", views.reset_password, name="reset-password"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup-confirm"),
    path("language/", views.set_language, name="set-language"),
    path("settings/agents/", settings_views.agents, name="settings-agents"),
    path("settings/workspace/", settings_views.workspace, name="settings-workspace"),
    path("settings/api-keys/", api_key_views.api_keys, name="settings-api-keys"),
    path("settings/audit-log/", audit_views.audit_log, name="settings-audit-log"),
    path("settings/holidays/", holiday_views.holidays, name="settings-holidays"),
    path("settings/holidays/<uuid:override_id>/", holiday_views.holiday, name="settings-holiday"),
    path(
        "settings/holidays/<uuid:override_id>/delete/",
        holiday_views.holiday_delete,
        name="settings-holiday-delete",
    ),
    path("settings/holidays/feeds/", holiday_views.holiday_feeds, name="settings-holiday-feeds"),
    path("settings/holidays/import/", holiday_views.holiday_import, name="settings-holiday-import"),
    path(
        "settings/holidays/feeds/<uuid:feed_id>/refresh/",
        holiday_views.holiday_feed_refresh,
        name="settings-holiday-feed-refresh",
    ),
    path(
        "settings/holidays/feeds/<uuid:feed_id>/toggle/",
        holiday_views.holiday_feed_toggle,
        name="settings-holiday-feed-toggle",
    ),
    path(
        "settings/holidays/feeds/<uuid:feed_id>/delete/",
        holiday_views.holiday_feed_delete,
        name="settings-holiday-feed-delete",
    ),
    path(
        "settings/api-keys/<uuid:key_id>/revoke/",
        api_key_views.api_key_revoke,
        name="settings-api-key-revoke",
    ),
    path(
        "settings/agents/<uuid:user_id>/role/",
        settings_views.agent_role,
        name="settings-agent-role",
    ),
    path(
        "settings/agents/<uuid:user_id>/deactivate/",
        settings_views.agent_deactivate,
        name="settings-agent-deactivate",
    ),
    path(
        "settings/agents/<uuid:user_id>/reactivate/",
        settings_views.agent_reactivate,
        name="settings-agent-reactivate",
    ),
]
