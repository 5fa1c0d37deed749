"""A worker that reads its config, then processes a queue until told to stop.

On SIGTERM it finishes the current task, says so and exits 0. Standard library only.
"""
import argparse
import configparser
import os
import signal
import sys
import time

stop_requested = False


def request_stop(signum, frame):
    global stop_requested
    stop_requested = True
    print(f"worker: got signal {signum}, finishing the current task", flush=True)


def read_config():
    config = configparser.ConfigParser()
    config_dir = os.environ.get("WORKER_CONFIG_DIR", "/etc/worker")
    config.read(os.path.join(config_dir, "worker.ini"))
    if config.has_section("worker"):
        return dict(config["worker"])
    return {"queue": "default", "concurrency": "2"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description="queue worker")
    parser.add_argument("--queue", help="queue name, overrides the config file")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds per task")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    settings = read_config()
    queue = args.queue or settings["queue"]
    signal.signal(signal.SIGTERM, request_stop)
    print(f"worker: consuming queue {queue!r}", flush=True)
    task = 0
    while not stop_requested:
        task += 1
        time.sleep(args.interval)
        print(f"worker: task {task} done", flush=True)
    print("worker: shutting down cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
