#!/bin/bash
# Waits for the database, creates the service user once, then hands over to the command.
set -euo pipefail

if !(getent passwd svc >/dev/null) then
    useradd --system --no-create-home svc
fi

until pg_isready -h "${DB_HOST:-db}" -p "${DB_PORT:-5432}" -q; do
    echo "waiting for ${DB_HOST:-db}..." >&2
    sleep 1
done

exec gosu svc "$@"
