#!/usr/bin/env bash
# Container entrypoint: one image, three roles.
#   web     wait for the database, migrate, then gunicorn
#   worker  Celery worker
#   beat    Celery beat (run exactly one)
#   *       any other command, e.g. `python manage.py createsuperuser`
set -euo pipefail

# `manage.py check --database default` is not enough on its own: on PostgreSQL it passes
# without ever opening a connection, so the probe opens one explicitly.
db_ready() {
    python -c 'import django; django.setup(); from django.db import connection; connection.ensure_connection()'
}

wait_for_db() {
    local tries="${DB_WAIT_TRIES:-30}"
    local delay="${DB_WAIT_DELAY:-2}"
    local attempt=1
    until db_ready >/dev/null 2>&1; do
        if [ "$attempt" -ge "$tries" ]; then
            echo "entrypoint: database not reachable after ${tries} tries; last error:" >&2
            db_ready || true
            exit 1
        fi
        echo "entrypoint: waiting for database (${attempt}/${tries})" >&2
        attempt=$((attempt + 1))
        sleep "$delay"
    done
    python manage.py check --database default
}

role="${1:-web}"

case "$role" in
    web)
        wait_for_db
        # With several web replicas, set MIGRATE_ON_START=false on all but one (or run
        # `migrate` as a one-off job) so that two replicas never migrate at once.
        if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
            python manage.py migrate --noinput
        fi
        exec gunicorn config.wsgi:application \
            --bind 0.0.0.0:8000 \
            --workers "${WEB_CONCURRENCY:-3}" \
            --access-logfile -
        ;;
    worker)
        exec celery -A config worker -l info --concurrency "${WORKER_CONCURRENCY:-2}"
        ;;
    beat)
        exec celery -A config beat -l info --schedule /tmp/celerybeat-schedule
        ;;
    *)
        exec "$@"
        ;;
esac
