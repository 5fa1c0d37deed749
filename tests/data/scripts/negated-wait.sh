#!/bin/bash
# bash accepts `while !(cmd) do`; tree-sitter-bash reads it as one error that swallows the rest.
while !(nc -z "$BROKER_HOST" 5672) do
    sleep 2
done
exec celery -A tasks worker --loglevel=info
