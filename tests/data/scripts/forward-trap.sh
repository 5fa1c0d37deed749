#!/bin/bash
# Starts the worker in the background and passes the stop signal on to it.
_term() {
    echo "caught SIGTERM, stopping worker $worker"
    kill -TERM "$worker" 2>/dev/null
}
trap _term TERM INT

python worker.py &
worker=$!
wait "$worker"
