#!/bin/sh
# Starts the web front and the background job, then waits for them.
set -e

cd /app
python3 web.py &
echo "start.sh: web started as $!"
python3 job.py &
echo "start.sh: job started as $!"

# As PID 1 this shell forwards no signals and reaps only its own children.
wait
