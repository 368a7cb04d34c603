# syntax=docker/dockerfile:1
#
# FLAME Assistant production image. One image, several roles (see docker-compose.yml):
#   default CMD   gunicorn flame.wsgi:application   HTTP: API, webhooks, pages, admin  (:8000)
#   ws            daphne flame.asgi:application      WebSockets under /ws/               (:8001)
#   worker(-ai)   celery -A flame worker -Q ...      background tasks (queues ingest, outbound,
#                                                    media, default; ai on its own worker)
#   beat          celery -A flame beat               periodic tasks (exactly one instance)
#   migrate       python manage.py migrate --noinput one-shot, before the others start
#
# No secret is baked in: the image runs with DEBUG=0 and refuses to start until SECRET_KEY,
# ALLOWED_HOSTS and ENCRYPTION_KEYS come from the environment (.env via docker compose).
#
#   docker build -t flame-assistant .
#   docker run --env-file .env -p 8000:8000 flame-assistant

ARG PYTHON_IMAGE=python:3.11-slim

# --- dependencies: a virtualenv that is copied whole into the final image --------------------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --requirement /tmp/requirements.txt

# --- source: the build context minus local state ---------------------------------------------
# The final image copies only the cleaned tree from this stage, so a developer's .env,
# var/dev-secrets.json, SQLite database, .venv or .git never reach an image layer even when
# there is no .dockerignore (adding one still makes the build context smaller and faster).
FROM ${PYTHON_IMAGE} AS source
WORKDIR /src
COPY . .
RUN rm -rf .git .venv venv var media staticfiles logs db.sqlite3* \
        .pytest_cache .ruff_cache .mypy_cache .coverage htmlcov \
    && find . -maxdepth 1 -name '.env*' ! -name '.env.example' -exec rm -rf {} + \
    && find . -name '__pycache__' -type d -prune -exec rm -rf {} + \
    && find . -name '*.py[co]' -delete \
    && chmod -R a+rX,go-w .

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

# Production by default (DEBUG=0); containers log JSON lines to stdout only (LOG_TO_FILES=0).
# An env file (docker compose env_file, docker run --env-file) overrides every value here.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=flame.settings \
    DEBUG=0 \
    LOG_TO_FILES=0 \
    GUNICORN_WORKERS=2 \
    GUNICORN_THREADS=4 \
    GUNICORN_TIMEOUT=30 \
    PROMETHEUS_MULTIPROC_DIR=/var/lib/flame/prometheus

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

COPY --from=deps /opt/venv /opt/venv
# Code stays owned by root: the app user can read it but not change it.
COPY --from=source /src /app
WORKDIR /app

# Static files are collected (and compressed, with hashed names) at build time. Settings need
# DEBUG=0 for the manifest storage, and refuse DEBUG=0 without these three values, so dummies
# are set for this one command only: they are not in the image's environment and protect
# nothing (the ENCRYPTION_KEYS dummy is a well-formed "id:base64url(32 zero bytes)"). It counts
# no Prometheus metrics into the image (PROMETHEUS_MULTIPROC_DIR unset for it).
# Then the places the app user may write: log files (if LOG_TO_FILES=1), var/, /srv/static,
# the mount point that docker-compose's one-shot `static` service copies staticfiles/ into, and
# the Prometheus counters every process of the container writes (PROMETHEUS_MULTIPROC_DIR).
RUN env -u PROMETHEUS_MULTIPROC_DIR \
    DEBUG=0 \
    SECRET_KEY=collectstatic-build-only-not-a-secret \
    ALLOWED_HOSTS=localhost \
    ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/logs /app/var/media /srv/static /var/lib/flame/prometheus \
    && chown app:app /app/logs /app/var /app/var/media /srv/static /var/lib/flame/prometheus

USER app:app
EXPOSE 8000

# GET /health answers 200 while the database is reachable (503 otherwise). Django checks the
# Host header, so the probe sends the first concrete name from ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c 'import os,urllib.request as r;h=next((x.strip().lstrip(".") for x in os.environ.get("ALLOWED_HOSTS","").split(",") if x.strip() and "*" not in x),"localhost");r.urlopen(r.Request("http://127.0.0.1:8000/health",headers={"Host":h}),timeout=4)'

# gunicorn: gthread workers x threads (2 x 4 on a 2-core box, README "Production"). GUNICORN_CMD_ARGS
# adds any other gunicorn flag. Access log lines go to stdout, errors to stderr; the access log
# has the client (X-Real-IP from nginx) and the path WITHOUT the query string, which can carry
# secrets (webhook hub.verify_token, ?token= on sockets).
CMD ["sh", "-c", "exec gunicorn flame.wsgi:application --bind 0.0.0.0:8000 --worker-class gthread --workers \"${GUNICORN_WORKERS:-2}\" --threads \"${GUNICORN_THREADS:-4}\" --timeout \"${GUNICORN_TIMEOUT:-30}\" --graceful-timeout 30 --keep-alive 5 --worker-tmp-dir /dev/shm --access-logfile - --access-logformat '%({x-real-ip}i)s %(t)s \"%(m)s %(U)s %(H)s\" %(s)s %(B)s %(M)sms \"%(a)s\" rid=%({x-request-id}i)s' --error-logfile -"]
