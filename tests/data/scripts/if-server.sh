#!/bin/bash
set -e
if [ "$1" = "server" ]; then
    shift
    exec node dist/server.js "$@"
elif [ "$1" = "seed" ]; then
    node dist/seed.js
else
    exec "$@"
fi
