"""Fixtures for planner tests: a hand-built SceneMemory and a real OpenAI-compatible HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory

# category, centre (x, y, z), size (sx, sy, sz), first_seen_s
OBJECTS = [
    ("sofa", (1.0, 1.0, 0.4), (2.0, 0.9, 0.8), 0.5),
    ("tv", (1.0, 4.0, 1.0), (1.2, 0.1, 0.7), 3.0),
    ("lamp", (3.5, 2.0, 0.8), (0.3, 0.3, 1.6), 5.0),
    ("chair", (2.5, 3.0, 0.45), (0.5, 0.5, 0.9), 7.0),
    ("chair", (4.0, 3.5, 0.45), (0.5, 0.5, 0.9), 8.0),
    ("trash bin", (0.3, 2.5, 0.2), (0.3, 0.3, 0.4), 9.5),
]


def make_memory(scene_id: str = "scene_test") -> SceneMemory:
    instances = tuple(
        ObjectInstance(id=i + 1, category=cat, box=OrientedBox.from_yaw(c, s, 0.0), first_seen_s=t, last_seen_s=t + 1)
        for i, (cat, c, s, t) in enumerate(OBJECTS)
    )
    poly = np.array([[0, 0], [5, 0], [5, 5], [0, 5]], dtype=np.float64)
    return SceneMemory(scene_id=scene_id, instances=instances, room=Room(0.0, poly, 25.0, 2.6))


@pytest.fixture
def memory() -> SceneMemory:
    return make_memory()


def completion(text: str, model: str = "test-model") -> dict:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class ChatServer:
    """Scripted /v1/chat/completions: each request pops the next (status, body, delay) action."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, float]] = []
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "body": body})
                    status, reply, delay = server.script.pop(0) if server.script else (500, "script exhausted", 0)
                if delay:
                    time.sleep(delay)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    status, reply = 404, {"error": {"message": "not found"}}
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(reply, str) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reply(self, text: str, delay: float = 0.0) -> None:
        self.script.append((200, completion(text), delay))

    def fail(self, status: int, message: str = "boom") -> None:
        self.script.append((status, {"error": {"message": message, "type": "server_error"}}, 0.0))


@pytest.fixture
def chat_server():
    server = ChatServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
