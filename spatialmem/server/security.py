"""Pure ASGI middleware: the bearer token (when configured) and the request-body size limit.

Browsers cannot set headers on page loads or WebSockets, so the token is also accepted as the
``access_token`` query parameter (the viewer passes it on from its own URL). Comparisons are
constant-time. Refusals are problem-details JSON (401 / 413), sent before the application runs.
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

from spatialmem.server.problems import MEDIA_TYPE, body


class BodyTooLarge(HTTPException):
    """Raised while reading a body that grows past the limit (FastAPI passes HTTPExceptions through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes; send less data per request "
                              "(or raise the limit with --max-upload-mb)")


class GuardMiddleware:
    """Checks the bearer token and caps request bodies at ``max_body_bytes``."""

    def __init__(self, app, token: str | None, max_body_bytes: int) -> None:
        self.app, self.token, self.max_body = app, token, int(max_body_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if self.token and not self._authorized(scope):
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008, "reason": "missing or wrong token"})
            return await _problem(send, scope, 401, "Unauthorized",
                                  "this server needs a token: send 'Authorization: Bearer TOKEN' "
                                  "(or ?access_token=TOKEN from a browser)", [(b"www-authenticate", b"Bearer")])
        if scope["type"] == "http":
            length = _header(scope, b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                return await _problem(send, scope, 413, "Payload too large", BodyTooLarge(self.max_body).detail)
            receive = self._counting(receive)
        return await self.app(scope, receive, send)

    def _authorized(self, scope) -> bool:
        auth = _header(scope, b"authorization") or ""
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        if given is None:
            qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (qs.get("access_token") or [None])[0]
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _counting(self, receive):
        seen = 0
        limit = self.max_body

        async def wrapped():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return wrapped


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


async def _problem(send, scope, status: int, title: str, detail: str, headers=()) -> None:
    data = json.dumps(body(status, title, detail, scope.get("path", ""))).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})
