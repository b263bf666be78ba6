"""A gateway whose clock is off the clock that stamps the API's records.

:func:`date_shifting_proxy` forwards every request to the upstream (the served emulator) as it is
(``Host`` kept, so signatures still verify) and shifts only the answer's ``Date`` header by
``shift`` seconds: apply measures the API's clock from ``Date``, the records keep theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_HOP = {"content-length", "transfer-encoding", "connection", "date", "content-encoding"}


def _handler(upstream: str, shift: float, client: httpx.Client) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            answer = client.request(
                self.command, upstream + self.path, headers=dict(self.headers), content=body
            )
            self.send_response_only(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in _HOP:
                    self.send_header(key, value)
            when = parsedate_to_datetime(answer.headers["date"]).timestamp() + shift
            self.send_header("Date", formatdate(when, usegmt=True))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def date_shifting_proxy(upstream: str, shift: float) -> Iterator[str]:
    """The proxy's URL, for as long as the context lasts."""
    with httpx.Client(timeout=300) as client:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, shift, client))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
