"""Errors as JSON problem details (RFC 9457: ``type``, ``title``, ``status``, ``detail`` + extensions).

:class:`ApiProblem` is raised by route code; :func:`install` maps it, the library's
:class:`~spatialmem.errors.SpatialMemError` classes, request-validation errors and unknown routes to
``application/problem+json`` responses, so no traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from spatialmem.errors import (
    BackendError,
    InputError,
    LLMError,
    MissingDependencyError,
    PlanningError,
    ProgramError,
    ProgramRuntimeError,
    RenderError,
    SpatialMemError,
    StoreError,
)

log = logging.getLogger("spatialmem.server")

MEDIA_TYPE = "application/problem+json"

#: The status of each library error class (most specific first).
STATUS: tuple[tuple[type[SpatialMemError], int], ...] = (
    (ProgramRuntimeError, 422),
    (ProgramError, 422),
    (PlanningError, 422),
    (StoreError, 404),
    (BackendError, 400),
    (InputError, 400),
    (MissingDependencyError, 501),
    (RenderError, 500),
    (LLMError, 502),
)


class ApiProblem(Exception):
    """A problem to answer with: HTTP status, short title, one-sentence detail, extra JSON members."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def body(status: int, title: str, detail: str, instance: str = "", **extra: Any) -> dict[str, Any]:
    """The problem-details JSON object."""
    slug = title.lower().replace(" ", "-")
    return {"type": f"https://spatialmem.dev/problems/{slug}", "title": title, "status": status,
            "detail": detail, "instance": instance, **extra}


def from_library_error(exc: SpatialMemError) -> ApiProblem:
    """The problem for a library error: ProgramError carries its diagnostics; time/step limits are 408."""
    status = next((s for cls, s in STATUS if isinstance(exc, cls)), 500)
    extra: dict[str, Any] = {}
    if isinstance(exc, ProgramError):
        extra["stage"] = "runtime" if isinstance(exc, ProgramRuntimeError) else "check"
        extra["diagnostics"] = [diagnostic_dict(d) for d in exc.diagnostics]
        if any(d.code in ("R410", "R411") for d in exc.diagnostics):
            status = 408
        title = {408: "Program timed out", 422: "Program failed" if extra["stage"] == "runtime"
                 else "Program rejected"}[status]
    else:
        title = type(exc).__name__.replace("Error", " error").strip().capitalize()
    return ApiProblem(status, title, str(exc).splitlines()[0] if str(exc) else title, **extra)


def diagnostic_dict(d) -> dict[str, Any]:
    """A diagnostic as the CLI's ``--json`` prints it, plus ``end_column`` and the rendered text with the caret."""
    return {**d.to_dict(), "end_column": d.end_column, "rendered": d.render()}


def install(app) -> None:
    """Register the exception handlers on a FastAPI app."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    def respond(request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
        return JSONResponse(body(status, title, detail, str(request.url.path), **extra), status_code=status,
                            media_type=MEDIA_TYPE)

    @app.exception_handler(ApiProblem)
    async def _api(request, exc: ApiProblem):
        return respond(request, exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(SpatialMemError)
    async def _lib(request, exc: SpatialMemError):
        p = from_library_error(exc)
        return respond(request, p.status, p.title, p.detail, **p.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        errors = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        if any(e["type"] == "json_invalid" for e in errors):
            return respond(request, 400, "Malformed JSON", f"the request body is not valid JSON ({first['msg']} at "
                           f"character {first['loc'][-1]})")
        return respond(request, 422, "Invalid request", f"{'.'.join(first['loc'])}: {first['msg']}",
                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return respond(request, exc.status_code, title, str(exc.detail))

    @app.exception_handler(Exception)
    async def _other(request, exc: Exception):  # pragma: no cover - a bug; logged, never shown as a traceback
        log.exception("unexpected error on %s", request.url.path)
        return respond(request, 500, "Internal error", f"unexpected {type(exc).__name__}; see the server log")
