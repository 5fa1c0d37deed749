#!/bin/sh
# Removes its lock file on stop, but leaves the server running until the kernel kills it.
LOCK=/tmp/app.lock
trap 'rm -f "$LOCK"; exit 0' TERM INT
touch "$LOCK"
node server.js &
wait
