"""Fixtures for planner tests: a real OpenAI-compatible HTTP server (the memory is in tests/conftest.py)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def completion(text: str, model: str = "test-model") -> dict:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class ChatServer:
    """A scripted OpenAI-compatible server on 127.0.0.1 (real sockets) that records what it received.

    Each POST to ``/v1/chat/completions`` pops the next action ``(status, body, delay, drip_s)``:
    ``drip_s`` > 0 sends the body one byte every ``drip_s`` seconds (a server that never quite answers).
    ``kind`` decides what the server advertises: ``"llama.cpp"`` (``/props`` and ``/tokenize``),
    ``"vllm"`` (``owned_by: vllm``), ``"plain"`` (``/v1/models`` only) or ``None`` (no ``/v1/models``).
    """

    def __init__(self, kind: str | None = "plain") -> None:
        self.kind = kind
        self.script: list[tuple[int, object, float, float]] = []
        self.requests: list[dict] = []
        self.gets: list[str] = []
        self.tokenize_calls = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def _send(self, status: int, reply: object, drip_s: float = 0.0) -> None:
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(reply, str) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if drip_s <= 0:
                        self.wfile.write(data)
                        return
                    for i in range(len(data)):
                        if server.stopping.is_set():
                            return
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                        time.sleep(drip_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                with server._lock:
                    server.gets.append(self.path)
                kind = server.kind
                if self.path.rstrip("/") == "/v1/models" and kind is not None:
                    owner = {"vllm": "vllm", "llama.cpp": "llamacpp"}.get(kind, "someone")
                    self._send(200, {"object": "list", "data": [{"id": "test-model", "object": "model",
                                                                 "owned_by": owner}]})
                elif self.path.rstrip("/") == "/props" and kind == "llama.cpp":
                    self._send(200, {"default_generation_settings": {}, "total_slots": 1})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":  # /tokenize: llama.cpp's only
                    if self.path.rstrip("/") == "/tokenize" and server.kind == "llama.cpp":
                        with server._lock:
                            server.tokenize_calls += 1
                        self._send(200, {"tokens": list(range(len(body.get("content", "")) // 4))})
                    else:
                        self._send(404, {"error": {"message": "not found"}})
                    return
                with server._lock:
                    server.requests.append({"path": self.path, "body": body})
                    action = server.script.pop(0) if server.script else (500, "script exhausted", 0, 0)
                status, reply, delay, drip = action
                if delay:
                    time.sleep(delay)
                self._send(status, reply, drip)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reply(self, text: str, delay: float = 0.0) -> None:
        self.script.append((200, completion(text), delay, 0.0))

    def drip(self, text: str, every_s: float = 1.0) -> None:
        self.script.append((200, completion(text), 0.0, every_s))

    def raw(self, status: int, body: object) -> None:
        self.script.append((status, body, 0.0, 0.0))

    def fail(self, status: int, message: str = "boom") -> None:
        self.script.append((status, {"error": {"message": message, "type": "server_error"}}, 0.0, 0.0))

    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests]


def start_server(kind: str | None = "plain") -> ChatServer:
    server = ChatServer(kind)
    server.thread.start()
    return server


def stop_server(server: ChatServer) -> None:
    server.stopping.set()
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def chat_server():
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def server_of():
    """A factory: ``server_of(kind)`` starts a ChatServer advertising ``kind`` (stopped after the test)."""
    started = []

    def make(kind):
        server = start_server(kind)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_server(server)
