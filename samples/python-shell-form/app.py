"""A small queue worker: takes jobs, works on each for a moment, reports.

On SIGTERM it finishes the job it is on, says so, and exits 0.
It needs nothing beyond the Python standard library.
"""
import itertools
import signal
import sys
import time

stop_requested = False


def request_stop(signum, frame):
    global stop_requested
    stop_requested = True
    print(f"worker: got signal {signum}, finishing the current job", flush=True)


def next_job(counter):
    number = next(counter)
    return {"id": number, "payload": f"resize image {number}"}


def work_on(job):
    # A job takes a little while; it is never cut in half.
    for _ in range(5):
        time.sleep(0.05)
    print(f"worker: done job {job['id']} ({job['payload']})", flush=True)


def main():
    signal.signal(signal.SIGTERM, request_stop)
    print("worker: started, waiting for jobs", flush=True)
    counter = itertools.count(1)
    while not stop_requested:
        work_on(next_job(counter))
    print("worker: shutting down cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
