"""The Lambda Runtime API of one execution environment, on a loopback port.

The function's runtime polls `invocation/next`, then posts the invocation's response or error;
a runtime that fails before its first poll may post `init/error`. See
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

import json
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


@dataclass
class Event:
    request_id: str
    function_arn: str
    trace_id: str
    deadline_ms: int
    payload: bytes


@dataclass
class Answer:
    payload: bytes
    is_error: bool


class RuntimeApi:
    """Queues events for the runtime and hands back what it answers."""

    def __init__(self, max_response_bytes: int):
        self.max_response_bytes = max_response_bytes
        self._changed = threading.Condition()
        self._queue: deque[Event] = deque()
        self._pending: dict[str, Future] = {}
        self._closed = False
        self.polls = 0
        self.init_error: bytes | None = None
        api = self

        class Handler(_Handler):
            runtime_api = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, name="host-runtime-api", daemon=True
        ).start()

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def submit(self, event: Event) -> Future:
        future: Future = Future()
        with self._changed:
            self._pending[event.request_id] = future
            self._queue.append(event)
            self._changed.notify_all()
        return future

    def forget(self, request_id: str) -> None:
        """Drops an invocation that will not be answered (timed out, runtime gone)."""
        with self._changed:
            self._pending.pop(request_id, None)
            self._queue = deque(e for e in self._queue if e.request_id != request_id)

    def wait_for_poll(self, polls_before: int, timeout: float) -> bool:
        """Whether the runtime polled (more than `polls_before` times) or failed its init."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.polls <= polls_before and self.init_error is None:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._changed.wait(min(left, 0.05))
            return True

    def close(self) -> None:
        with self._changed:
            self._closed = True
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # Called by the handler's threads.

    def next_event(self) -> Event | None:
        with self._changed:
            self.polls += 1
            self._changed.notify_all()
            while not self._queue:
                if self._closed:
                    return None
                self._changed.wait(0.5)
            return self._queue.popleft()

    def complete(self, request_id: str, answer: Answer) -> bool:
        with self._changed:
            future = self._pending.pop(request_id, None)
        if future is None:
            return False
        future.set_result(answer)
        return True

    def fail_init(self, payload: bytes) -> None:
        with self._changed:
            self.init_error = payload
            self._changed.notify_all()


class _Handler(BaseHTTPRequestHandler):
    runtime_api: RuntimeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per poll would drown LocalStack's log

    def do_GET(self):
        if self.path != f"{PREFIX}/invocation/next":
            return self._reply(HTTPStatus.NOT_FOUND)
        event = self.runtime_api.next_event()
        if event is None:
            return self._reply(HTTPStatus.GONE)
        self._reply(
            HTTPStatus.OK,
            event.payload,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": event.request_id,
                "Lambda-Runtime-Deadline-Ms": str(event.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": event.function_arn,
                "Lambda-Runtime-Trace-Id": event.trace_id,
            },
        )

    def do_POST(self):
        body = self._body()
        parts = self.path.removeprefix(PREFIX).strip("/").split("/")
        if parts == ["init", "error"]:
            self.runtime_api.fail_init(body)
            return self._reply(HTTPStatus.ACCEPTED)
        if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
            return self._reply(HTTPStatus.NOT_FOUND)
        request_id, kind = parts[1], parts[2]
        if kind == "response" and len(body) > self.runtime_api.max_response_bytes:
            # What Lambda answers the caller when a function's response is over its limit.
            limit = self.runtime_api.max_response_bytes
            error = {
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": "Response payload size exceeded maximum allowed payload size"
                f" ({limit} bytes).",
            }
            self.runtime_api.complete(request_id, Answer(json.dumps(error).encode(), True))
            return self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        answer = Answer(body, is_error=kind == "error")
        if not self.runtime_api.complete(request_id, answer):
            return self._reply(HTTPStatus.BAD_REQUEST)
        self._reply(HTTPStatus.ACCEPTED)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: HTTPStatus, body: bytes = b"", headers: dict | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
