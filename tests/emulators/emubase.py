"""What every JSON emulator under tests/emulators shares: an HTTP/1.1
keep-alive handler that answers in one segment (TCP_NODELAY; without it a
reply's body waits for the client's delayed ACK), the /_emu/ control
endpoints over a state dict, and the threaded server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Control:
    """The emulator's knobs and counters; reset() restores the defaults."""

    def __init__(self, defaults):
        self.lock = threading.Lock()
        self.defaults = defaults
        self.state = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.state.clear()
            self.state.update(json.loads(json.dumps(self.defaults)))

    def take(self, name):
        """Consumes one of a next-N behaviour; True when it applies."""
        with self.lock:
            if self.state[name] > 0:
                self.state[name] -= 1
                return True
        return False

    def bump(self, name, n=1):
        with self.lock:
            self.state[name] += n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    control = None            # a Control, set by the emulator's subclass

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, headers=None, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def controlled(self, body=None):
        """Answers /_emu/reset, /_emu/behave and /_emu/stats; False for
        anything else."""
        if self.path == "/_emu/stats" and self.command == "GET":
            with self.control.lock:
                self.send(200, dict(self.control.state))
            return True
        if self.path == "/_emu/reset" and self.command == "POST":
            self.control.reset()
            self.send(200, {})
            return True
        if self.path == "/_emu/behave" and self.command == "POST":
            with self.control.lock:
                self.control.state.update(json.loads(body or b"{}"))
            self.send(200, {})
            return True
        return False


def serve(port, handler):
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
