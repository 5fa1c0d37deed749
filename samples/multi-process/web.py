"""A tiny HTTP status page on port 8080, standard library only.

On SIGTERM it stops accepting requests, says so and exits 0.
"""
import http.server
import os
import signal
import sys
import threading


class StatusHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print("web: " + format % args, flush=True)


def main():
    port = int(os.environ.get("PORT", "8080"))
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), StatusHandler)

    def on_sigterm(signum, frame):
        print("web: got SIGTERM, closing the listener", flush=True)
        # shutdown() blocks until serve_forever() returns, so call it from another thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    print(f"web: listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()
    print("web: shutting down cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
