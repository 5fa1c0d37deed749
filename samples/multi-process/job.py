"""A background job that cleans up old files in a spool directory every few seconds.

It starts short-lived helper processes and, on SIGTERM, finishes its current pass and exits 0.
Standard library only.
"""
import os
import signal
import subprocess
import sys
import time

stop_requested = False


def request_stop(signum, frame):
    global stop_requested
    stop_requested = True
    print("job: got SIGTERM, finishing the current pass", flush=True)


def clean_pass(spool_dir, max_age_seconds):
    os.makedirs(spool_dir, exist_ok=True)
    now = time.time()
    removed = 0
    for name in os.listdir(spool_dir):
        path = os.path.join(spool_dir, name)
        if os.path.isfile(path) and now - os.path.getmtime(path) > max_age_seconds:
            os.remove(path)
            removed += 1
    # A helper that this job does not wait for: once the job exits, it is an orphan that
    # only a reaping PID 1 will collect.
    subprocess.Popen(["sh", "-c", "sleep 1"])
    return removed


def main():
    spool_dir = os.environ.get("SPOOL_DIR", "/tmp/spool")
    signal.signal(signal.SIGTERM, request_stop)
    print(f"job: cleaning {spool_dir}", flush=True)
    while not stop_requested:
        removed = clean_pass(spool_dir, max_age_seconds=3600)
        print(f"job: pass done, removed {removed} file(s)", flush=True)
        for _ in range(10):
            if stop_requested:
                break
            time.sleep(0.5)
    print("job: shutting down cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
