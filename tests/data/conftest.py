"""A real HTTP server on 127.0.0.1 (ephemeral port) serving bytes the tests make themselves."""

import http.server
import threading

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        server = self.server
        server.requests.append(self.path)
        if self.path in server.endless:
            self._send_endlessly()
            return
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", server.announce.get(self.path, str(len(body))))
        self.end_headers()
        if self.path in server.truncate:
            # announce the whole file, send half of it, then close the connection
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _send_endlessly(self):
        """No Content-Length, and bytes until the client hangs up (or 1 GiB, so that a client
        that never stops fails its test instead of hanging it)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        block = bytes(1 << 16)
        try:
            for _ in range((1 << 30) // len(block)):
                self.wfile.write(block)
                self.server.sent += len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.truncate, server.requests = {}, set(), []
    server.endless, server.announce, server.sent = set(), {}, 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
