#!/bin/bash
# bash accepts `while !(cmd) do` (no `;` before `do`); tree-sitter-bash reports a missing `;` and recovers.
while !(nc -z "$BROKER_HOST" 5672) do
    sleep 2
done
exec celery -A tasks worker --loglevel=info
