"""FLAME settings: read from the environment only (see .env.example for every variable).

With nothing set the project runs on its embedded default: SQLite, in-memory channel layer,
Celery tasks inline, local-memory cache, console e-mail, local AI provider, DEBUG on.
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis (channel layer, Celery broker,
cache and therefore rate limits). With ``DEBUG=0`` the process refuses to start unless the
secrets a real deployment needs are set.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from flame import __version__
from flame.crypto import parse_keys
from flame.devsecrets import dev_secret
from flame.env import env_bool, env_float, env_int, env_json, env_list, env_str
from flame.logging import build_logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", True)
ENVIRONMENT = env_str("ENVIRONMENT", "development" if DEBUG else "production")
VERSION = __version__

_production_required = {
    "SECRET_KEY": env_str("SECRET_KEY"),
    "ALLOWED_HOSTS": env_str("ALLOWED_HOSTS"),
    "ENCRYPTION_KEYS": env_str("ENCRYPTION_KEYS"),
}
if not DEBUG:
    _missing = [name for name, value in _production_required.items() if not value]
    if _missing:
        raise ImproperlyConfigured(
            "DEBUG=0 needs these environment variables: " + ", ".join(_missing)
        )

# Development keeps generated secrets in var/dev-secrets.json so sessions and encrypted
# credentials survive a restart; production never reaches dev_secret() (checked above).
SECRET_KEY = _production_required["SECRET_KEY"] or dev_secret(BASE_DIR, "SECRET_KEY")
ENCRYPTION_KEYS = _production_required["ENCRYPTION_KEYS"] or dev_secret(BASE_DIR, "ENCRYPTION_KEYS")
parse_keys(ENCRYPTION_KEYS)  # a malformed key list stops start-up, not the first decrypt
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def _origin_of(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


_public_origin = _origin_of(PUBLIC_BASE_URL, "PUBLIC_BASE_URL")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "csp",
    # The apps, lowest layer first (docs/architecture.md): each imports only those above it
    # in this list, never one below.
    "accounts",
    "conversations",
    "assistants",
    "satisfaction",
    # Notifications, saved replies, auto-assignment: beside assistants and satisfaction.
    "workbench",
    "integrations",
    # Signed outgoing webhooks from the core's event log: beside integrations.
    "outgoing_webhooks",
    "analytics",
    # Plans, payments, notices and operators' figures: beside analytics, reading every app.
    "billing",
    # Wiring above every app: commands that seed or span them all.
    "flame",
]

MIDDLEWARE = [
    "flame.middleware.RequestContextMiddleware",
    # The request being served, for the audit log's address and API key (accounts/audit.py).
    "accounts.audit.AuditContextMiddleware",
    # Prometheus: every request timed by its route's name (flame/metrics.py).
    "flame.metrics.RequestTimingMiddleware",
    "flame.middleware.RequestBodyLimitMiddleware",
    "flame.middleware.NullCharacterMiddleware",
    # Signed platform webhooks leave the chain here: what follows is for browsers and API users.
    "flame.middleware.MachineEndpointMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "flame.middleware.UserLanguageMiddleware",
    "flame.middleware.AnonymousApiRateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "flame.urls"
# API paths take an optional trailing slash themselves; a redirect would drop POST bodies.
APPEND_SLASH = False
WSGI_APPLICATION = "flame.wsgi.application"
ASGI_APPLICATION = "flame.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "billing.context_processors.notices",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Data stores
# ---------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with multi-row VALUES for bulk inserts (flame/postgresql/compiler.py).
        DATABASES["default"]["ENGINE"] = "flame.postgresql"
        # JIT compilation cost more than it saved on every report measured (bench/analytics:
        # dashboard p50 740 ms → 349 ms without it); none of our queries run long enough.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = env_str(
            "DATABASE_PG_OPTIONS", "-c jit=off"
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE transactions take the write lock up front, so two writers queue on
            # the busy timeout instead of one failing with "database is locked" mid-way.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",  # one client per pool (flame/cache.py)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "flame"),
            # Fail fast when Redis is away (webhooks are still stored and answered, rate limits
            # fail closed) rather than hang a request on a dead socket.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": env_str("CHANNEL_LAYER_BACKEND", "channels_redis.core.RedisChannelLayer"),
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "flame"),
                "capacity": env_int("CHANNEL_LAYER_CAPACITY", 1000),
                "expiry": 60,
                "group_expiry": env_int("CHANNEL_LAYER_GROUP_EXPIRY", 3600),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# ---------------------------------------------------------------------------------------------
# Celery (flame/celery.py reads every CELERY_* name below)
# ---------------------------------------------------------------------------------------------
_broker = env_str("CELERY_BROKER_URL", REDIS_URL)
# No broker means the embedded default: tasks run inline in the process that enqueues them.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not _broker)
CELERY_BROKER_URL = _broker or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task's database connection lives as a web request's does: kept across tasks for
# CONN_MAX_AGE, closed at a task's start or end only when too old or broken (flame/celery.py).
# Celery's Django fix-up would otherwise close it before and after every task, and under a burst
# PostgreSQL forked dozens of new backends a second, each warming its caches again. The fix-up
# still closes them every CELERY_DB_REUSE_MAX tasks (pool processes are replaced only when their
# memory grows past --max-memory-per-child, see docker-compose.yml).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Routed by module so a task's queue is decided in one place, next to the queue list.
CELERY_TASK_ROUTES = {
    # The first matching pattern wins: the attachment sweep before the ingest sweeps.
    # Downloading customers' files: its own queue, so ingestion never waits on a slow CDN.
    "integrations.tasks.download_*": {"queue": "media"},
    "integrations.tasks.sweep_attachment_*": {"queue": "media"},
    "integrations.tasks.ingest_*": {"queue": "ingest"},
    "integrations.tasks.sweep_*": {"queue": "ingest"},
    "integrations.tasks.deliver_*": {"queue": "outbound"},
    "outgoing_webhooks.tasks.deliver_*": {"queue": "outbound"},
    "assistants.tasks.*": {"queue": "ai"},
}
# A late-acked task that is not acked within the visibility timeout is delivered again, so it
# must exceed the hard time limit plus the longest countdown we schedule (debounces: seconds).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900),
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict = {
    "prune-events": {"task": "conversations.tasks.prune_events_task", "schedule": 3600.0},
    # Events left "received" (broker was down) or claimed by a worker that died.
    "sweep-webhook-events": {
        "task": "integrations.tasks.sweep_webhook_events_task",
        # With the 30-second claim lease: a dead worker's events move on within a minute.
        "schedule": 15.0,
    },
    # Reply jobs whose task was lost (broker down, dead worker) still get their reply.
    "auto-reply-sweep": {"task": "assistants.tasks.auto_reply_sweep_task", "schedule": 60.0},
    # Analyses fallen due whose run was lost (broker down) or whose worker died mid-run.
    "analyses-due": {"task": "assistants.tasks.analysis_due_task", "schedule": 60.0},
    # Registrations whose address was never confirmed (and their empty workspaces).
    # Downloads whose task was lost (broker down, dead worker) are enqueued again.
    "sweep-attachment-downloads": {
        "task": "integrations.tasks.sweep_attachment_downloads_task",
        "schedule": 300.0,
    },
    # WhatsApp message templates (approved, paused, rejected) of every connected account.
    "sync-message-templates": {
        "task": "integrations.tasks.sync_message_templates_task",
        "schedule": 6 * 3600.0,
    },
    # Workspaces whose grace period after a failed payment ran out move to the Free plan.
    "billing-grace-sweep": {"task": "billing.tasks.billing_grace_sweep_task", "schedule": 3600.0},
    # The core's new events become outgoing webhook deliveries; due retries are sent.
    "dispatch-webhooks": {
        "task": "outgoing_webhooks.tasks.dispatch_webhooks_task",
        "schedule": 5.0,
    },
    "sweep-webhook-deliveries": {
        "task": "outgoing_webhooks.tasks.sweep_webhook_deliveries_task",
        "schedule": 30.0,
    },
    # Audit entries older than AUDIT_LOG_RETENTION_DAYS.
    "prune-audit-log": {"task": "accounts.tasks.prune_audit_log_task", "schedule": 24 * 3600.0},
    # Holiday feeds: each is fetched again once a day (those due are claimed every hour).
    "refresh-holiday-feeds": {
        "task": "accounts.tasks.refresh_holiday_feeds_task",
        "schedule": 3600.0,
    },
    "prune-unconfirmed-signups": {
        "task": "accounts.tasks.prune_unconfirmed_signups_task",
        "schedule": 3600.0,
    },
    # Snoozed conversations whose time has come are back in the open list.
    "wake-snoozed": {"task": "conversations.tasks.wake_snoozed_task", "schedule": 60.0},
    # Auto-assignment's safety net (a lost drain, an assistant gone off duty, the workspace
    # opening again after a holiday or before a date's own hours: within a minute), waiting alerts,
    # and the e-mail digests of notifications nobody saw.
    "assignment-sweep": {"task": "workbench.tasks.assignment_sweep_task", "schedule": 60.0},
    "waiting-alerts": {"task": "workbench.tasks.waiting_alerts_task", "schedule": 60.0},
    "notification-emails": {"task": "workbench.tasks.notification_emails_task", "schedule": 60.0},
}
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 7)
AUDIT_LOG_RETENTION_DAYS = env_int("AUDIT_LOG_RETENTION_DAYS", 365)
# How long a contact merge can be undone (docs/contacts.md).
CONTACT_MERGE_UNDO_DAYS = env_int("CONTACT_MERGE_UNDO_DAYS", 30)

# ---------------------------------------------------------------------------------------------
# Auth, JWT, passwords
# ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# auth.E003 asks for a globally unique USERNAME_FIELD. Addresses are unique among claimed
# accounts (a partial unique index on lower(email)) and UserManager.get_by_natural_key only
# looks at those, so every sign-in still resolves to at most one user; pending invitations and
# sign-ups may repeat an address so that answering them reveals nothing about other workspaces.
SILENCED_SYSTEM_CHECKS = ["auth.E003"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600)
# How long a sign-up's confirmation link works; unconfirmed sign-ups are deleted after it.
SIGNUP_CONFIRM_SECONDS = env_int("SIGNUP_CONFIRM_SECONDS", 3 * 86400)
LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "login"

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a hash of the password hash: changing the password revokes access tokens
    # already handed out, not only refresh tokens (which are blacklisted as well).
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# ---------------------------------------------------------------------------------------------
# REST API
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # API keys and JWT as the plan allows them (API access is a plan feature); pages use
        # the session. Keys first: a bearer "flm_…" credential is a key, not a JWT.
        "accounts.api.authentication.ApiKeyAuthentication",
        "accounts.api.authentication.PlanJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's parsers, refusing text PostgreSQL cannot store (NUL, lone surrogates) with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "flame.api.parsers.JSONParser",
        "flame.api.parsers.FormParser",
        "flame.api.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["flame.api.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "flame.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "flame.api.schema.FlameAutoSchema",
    "EXCEPTION_HANDLER": "flame.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_PAGE_SIZE = 100

SPECTACULAR_SETTINGS = {
    "TITLE": "FLAME Assistant API",
    "DESCRIPTION": "Multi-channel customer conversations: inbox, assistants, channels, analytics.",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "flame.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "outgoing_webhooks.models.EventType",
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "MessageStatusEnum": "conversations.models.Message.Status",
        "PriorityEnum": "conversations.models.Conversation.Priority",
        "IntegrationStatusEnum": "integrations.models.Integration.Status",
        "AssistantStatusEnum": "assistants.models.Assistant.Status",
        "AvailabilityEnum": "accounts.models.User.Availability",
        "ContactAttributeTypeEnum": "conversations.models.ContactAttribute.Type",
        # Two fields are named "source": each choice set keeps a name of its own.
        "SourceEnum": "assistants.api.serializers.REPLY_SOURCES",
        "DateOverrideSourceEnum": "accounts.models.DateOverride.Source",
    },
}

# Rate limits (django-ratelimit syntax "count/period", e.g. "100/15m"), all on the shared cache.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# Sign-in counts failures only: per e-mail address, and more loosely per client IP.
RATELIMIT_LOGIN = env_str("RATELIMIT_LOGIN", "5/m")
RATELIMIT_LOGIN_IP = env_str("RATELIMIT_LOGIN_IP", "20/m")
RATELIMIT_REGISTER = env_str("RATELIMIT_REGISTER", "10/h")
RATELIMIT_PASSWORD_RESET = env_str("RATELIMIT_PASSWORD_RESET", "5/15m")
RATELIMIT_ANONYMOUS = env_str("RATELIMIT_ANONYMOUS", "100/15m")
RATELIMIT_USER = env_str("RATELIMIT_USER", "1200/m")
RATELIMIT_API_KEY = env_str("RATELIMIT_API_KEY", "600/m")
# Proxies (addresses or CIDR networks) whose X-Forwarded-For / X-Real-IP name the client.
# Empty: the peer address is the client, and forwarding headers are ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", ["http://localhost:5173"])
CORS_URLS_REGEX = r"^/(api|health)(/.*)?$"
# The pages are served from PUBLIC_BASE_URL, so their forms post from its origin. Django's own
# same-origin check compares with the Host header, which a proxy may pass without the port
# (the compose nginx on http://localhost:8080 sends "localhost"): trust the public origin
# explicitly, plus any other origin listed.
CSRF_TRUSTED_ORIGINS = list(dict.fromkeys([_public_origin, *env_list("CSRF_TRUSTED_ORIGINS", [])]))

MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)

# ---------------------------------------------------------------------------------------------
# Internationalisation
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
DEFAULT_WORKSPACE_TIMEZONE = env_str("DEFAULT_WORKSPACE_TIMEZONE", "UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static files, e-mail
# ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Customers' and agents' files (conversations.Attachment) go through Django's storage API:
# the filesystem under MEDIA_ROOT by default, any S3-compatible store with MEDIA_STORAGE=s3.
# Neither is ever public: files are served by a members-only view (conversations/web/media.py).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "filesystem")
if MEDIA_STORAGE not in ("filesystem", "s3"):
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be filesystem or s3, got {MEDIA_STORAGE!r}")
_MEDIA_STORAGES = {
    # Under MEDIA_ROOT (read when used, so tests can point it elsewhere).
    "filesystem": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("MEDIA_S3_BUCKET"),
            "endpoint_url": env_str("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": env_str("MEDIA_S3_REGION") or None,
            "access_key": env_str("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("MEDIA_S3_PREFIX"),
            "addressing_style": env_str("MEDIA_S3_ADDRESSING_STYLE") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    },
}
STORAGES = {
    "default": _MEDIA_STORAGES[MEDIA_STORAGE],
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FLAME Assistant <no-reply@localhost>")

# ---------------------------------------------------------------------------------------------
# External services (tests and staging point these at local stand-ins)
# ---------------------------------------------------------------------------------------------
# Outgoing webhooks (outgoing_webhooks/): private, loopback and link-local targets are refused
# unless allowed (tests, on-premise receivers); timeouts per try; retries for this many hours.
OUTGOING_WEBHOOKS_ALLOW_PRIVATE = env_bool("OUTGOING_WEBHOOKS_ALLOW_PRIVATE", False)
OUTGOING_WEBHOOKS_CONNECT_TIMEOUT = env_float("OUTGOING_WEBHOOKS_CONNECT_TIMEOUT", 5.0)
OUTGOING_WEBHOOKS_READ_TIMEOUT = env_float("OUTGOING_WEBHOOKS_READ_TIMEOUT", 10.0)
OUTGOING_WEBHOOKS_RETRY_HOURS = env_int("OUTGOING_WEBHOOKS_RETRY_HOURS", 24)
OUTGOING_WEBHOOKS_DISPATCH_LAG_SECONDS = env_int("OUTGOING_WEBHOOKS_DISPATCH_LAG_SECONDS", 10)
# Holiday feeds (accounts: public-holiday iCal addresses; docs/schedules.md): the same SSRF
# refusal as webhooks unless allowed; the size and the time one fetch may take.
HOLIDAY_FEEDS_ALLOW_PRIVATE = env_bool("HOLIDAY_FEEDS_ALLOW_PRIVATE", False)
HOLIDAY_FEEDS_MAX_BYTES = env_int("HOLIDAY_FEEDS_MAX_BYTES", 2 * 1024 * 1024)
HOLIDAY_FEEDS_TIMEOUT_SECONDS = env_float("HOLIDAY_FEEDS_TIMEOUT_SECONDS", 10.0)
GRAPH_API_BASE_URL = env_str("GRAPH_API_BASE_URL", "https://graph.facebook.com").rstrip("/")
GRAPH_API_VERSION = env_str("GRAPH_API_VERSION", "v21.0")
TELEGRAM_API_BASE_URL = env_str("TELEGRAM_API_BASE_URL", "https://api.telegram.org").rstrip("/")
# Optional: the app secret of one Meta app serving every workspace (else each integration's own).
META_APP_SECRET = env_str("META_APP_SECRET")
# Seconds for connecting to and reading from platform APIs; a read timeout after the request
# was sent is "ambiguous" and never resent automatically.
PROVIDER_CONNECT_TIMEOUT = env_float("PROVIDER_CONNECT_TIMEOUT", 5.0)
PROVIDER_READ_TIMEOUT = env_float("PROVIDER_READ_TIMEOUT", 15.0)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 6)
# Customers' files: downloaded up to this size, tried this often (with backoff) before the
# message shows the failure; agents' uploads up to MEDIA_UPLOAD_MAX_BYTES (each platform's own
# limits are lower for most kinds, docs/channels.md §common.media).
MEDIA_DOWNLOAD_MAX_BYTES = env_int("MEDIA_DOWNLOAD_MAX_BYTES", 100 * 1024 * 1024)
MEDIA_DOWNLOAD_MAX_ATTEMPTS = env_int("MEDIA_DOWNLOAD_MAX_ATTEMPTS", 5)
MEDIA_UPLOAD_MAX_BYTES = env_int("MEDIA_UPLOAD_MAX_BYTES", 100 * 1024 * 1024)
# Seconds a signed link to a file stays valid (Instagram fetches the files we send by link).
MEDIA_SIGNED_URL_SECONDS = env_int("MEDIA_SIGNED_URL_SECONDS", 600)
# Hosts Messenger and Instagram attachment links may point at (a leading dot: subdomains).
META_MEDIA_HOSTS = env_list(
    "META_MEDIA_HOSTS", [".fbcdn.net", ".fbsbx.com", ".cdninstagram.com", ".facebook.com"]
)
# Meta sends webhook bodies of up to 3 MB; every other request keeps MAX_REQUEST_BODY_BYTES.
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 3 * 1024 * 1024)
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT_SECONDS = env_float("OPENAI_TIMEOUT_SECONDS", 30.0)
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 2)

# ---------------------------------------------------------------------------------------------
# Assistants (read through assistants/conf.py, which holds the defaults' reasoning)
# ---------------------------------------------------------------------------------------------
AUTO_REPLY_QUIET_SECONDS = env_float("AUTO_REPLY_QUIET_SECONDS", 4.0)
AUTO_REPLY_HISTORY_MESSAGES = env_int("AUTO_REPLY_HISTORY_MESSAGES", 20)
AI_KNOWLEDGE_SNIPPETS = env_int("AI_KNOWLEDGE_SNIPPETS", 3)
KNOWLEDGE_MATCH_THRESHOLD = env_float("KNOWLEDGE_MATCH_THRESHOLD", 0.5)
AI_ANALYSIS_DEBOUNCE_SECONDS = env_float("AI_ANALYSIS_DEBOUNCE_SECONDS", 10.0)
AI_ANALYSIS_MESSAGES = env_int("AI_ANALYSIS_MESSAGES", 30)
AI_ANALYSIS_MODEL = env_str("AI_ANALYSIS_MODEL")
# {"model": {"prompt": "<USD per 1M tokens>", "completion": "..."}}; unset: built-in table.
AI_PRICES = env_json("AI_PRICES_JSON", None)
# {"free": {"requests": 100, "tokens": 50000}, ..., "business": null}; unset: the seed's plans.
AI_PLAN_LIMITS = env_json("AI_PLAN_LIMITS_JSON", None)
AI_TASK_SOFT_TIME_LIMIT = env_int("AI_TASK_SOFT_TIME_LIMIT", 0)
# Django's own cap on reading a body; the per-path limits in flame.middleware are stricter.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_REQUEST_BODY_BYTES, WEBHOOK_MAX_BODY_BYTES)

# ---------------------------------------------------------------------------------------------
# The agent workbench: presence, notifications, auto-assignment (accounts/presence.py, workbench/)
# ---------------------------------------------------------------------------------------------
# A member is offline this long after their last socket closed (a reload or a flaky network in
# between changes nothing); a socket not heard from for the second is taken as gone.
PRESENCE_OFFLINE_AFTER_SECONDS = env_int("PRESENCE_OFFLINE_AFTER_SECONDS", 300)
PRESENCE_SOCKET_STALE_SECONDS = env_int("PRESENCE_SOCKET_STALE_SECONDS", 120)
# Mentions and assignments are e-mailed to members with no open socket once they are this old
# and still unread, at most one e-mail per member per interval (a digest, never one per event).
NOTIFICATION_EMAIL_DELAY_SECONDS = env_int("NOTIFICATION_EMAIL_DELAY_SECONDS", 120)
NOTIFICATION_EMAIL_INTERVAL_SECONDS = env_int("NOTIFICATION_EMAIL_INTERVAL_SECONDS", 900)

# ---------------------------------------------------------------------------------------------
# Plans and payments (billing/, read through billing/conf.py); operators' metrics
# ---------------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# Where the stripe package sends its calls (tests and staging: a local stand-in).
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
# A signed delivery older than this is refused (Stripe's own default).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
STRIPE_PRICE_STARTER = env_str("STRIPE_PRICE_STARTER")
STRIPE_PRICE_PRO = env_str("STRIPE_PRICE_PRO")
STRIPE_PRICE_BUSINESS = env_str("STRIPE_PRICE_BUSINESS")
LEMONSQUEEZY_API_KEY = env_str("LEMONSQUEEZY_API_KEY")
LEMONSQUEEZY_WEBHOOK_SECRET = env_str("LEMONSQUEEZY_WEBHOOK_SECRET")
LEMONSQUEEZY_API_BASE = env_str("LEMONSQUEEZY_API_BASE", "https://api.lemonsqueezy.com")
LEMONSQUEEZY_STORE_ID = env_str("LEMONSQUEEZY_STORE_ID")
LEMONSQUEEZY_VARIANT_STARTER = env_str("LEMONSQUEEZY_VARIANT_STARTER")
LEMONSQUEEZY_VARIANT_PRO = env_str("LEMONSQUEEZY_VARIANT_PRO")
LEMONSQUEEZY_VARIANT_BUSINESS = env_str("LEMONSQUEEZY_VARIANT_BUSINESS")
# Days a workspace keeps its plan after a payment failed, before it moves to Free.
BILLING_GRACE_DAYS = env_float("BILLING_GRACE_DAYS", 7.0)
BILLING_MAX_NETWORK_RETRIES = env_int("BILLING_MAX_NETWORK_RETRIES", 2)
BILLING_FORM_ACTION_HOSTS = env_list(
    "BILLING_FORM_ACTION_HOSTS",
    ["https://checkout.stripe.com", "https://billing.stripe.com", "https://*.lemonsqueezy.com"],
)
# GET /metrics (Prometheus): a bearer token, or client addresses/networks allowed without one.
# Neither set: the endpoint answers 403.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])

# ---------------------------------------------------------------------------------------------
# Security headers (strict outside DEBUG; `manage.py check --deploy` must stay silent)
# ---------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Pages hand the CSRF token to their scripts in <meta name="csrf-token">; no script reads the
# cookie, so it is kept away from them.
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Container health checks talk plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Swagger UI and the inbox set style attributes from JavaScript; scripts stay strict.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "https:"],
        "connect-src": [SELF, "ws:", "wss:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        # The payment providers' checkout and portal: the billing page's forms redirect there.
        "form-action": [SELF, *BILLING_FORM_ACTION_HOSTS],
    }
}

# ---------------------------------------------------------------------------------------------
# Logging: JSON lines to stdout and rotating files (flame/logging.py)
# ---------------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_DIR = Path(env_str("LOG_DIR", str(BASE_DIR / "logs")))
LOG_TO_FILES = env_bool("LOG_TO_FILES", True)
LOGGING = build_logging_config(
    level=LOG_LEVEL, log_dir=LOG_DIR if LOG_TO_FILES else None, recent_errors_url=REDIS_URL
)
