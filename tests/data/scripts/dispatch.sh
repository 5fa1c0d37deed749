#!/bin/sh
set -e

app_init() {
    echo "running migrations"
    python manage.py migrate --noinput
}

app_run() {
    exec gunicorn --bind "0.0.0.0:${PORT:-8000}" project.wsgi
}

case "$1" in
    app:init)
        app_init
        ;;
    app:run)
        app_run
        ;;
    *)
        exec "$@"
        ;;
esac
