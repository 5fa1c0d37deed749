"""Behaves like systemd as PID 1 at shutdown time, for tests.

SIGTERM: logged and ignored (real systemd would re-execute itself, daemon-reexec, and keep running).
SIGRTMIN+3: a clean power-off, exit 0.
Needs only the Python standard library.
"""
import signal
import sys
import time

POWEROFF_SIGNAL = signal.SIGRTMIN + 3

poweroff_requested = False


def on_sigterm(signum, frame):
    print("standin: SIGTERM: ignored, systemd would re-execute itself", flush=True)


def on_poweroff(signum, frame):
    global poweroff_requested
    poweroff_requested = True


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(POWEROFF_SIGNAL, on_poweroff)
    print(f"standin: running as PID 1 stand-in, power-off signal is {int(POWEROFF_SIGNAL)}", flush=True)
    while not poweroff_requested:
        time.sleep(0.2)
    print("standin: SIGRTMIN+3: reached target poweroff, shutting down cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
