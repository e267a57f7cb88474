"""Settings of ``spatialmem serve``: where memories live, who may connect, and the request limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from spatialmem.errors import InputError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServerLimits:
    """Request limits; each one exceeded is answered with a 4xx problem naming the limit.

    Attributes:
        max_upload_bytes: largest request body (frames, videos, JSON) -> 413.
        max_frame_pixels: largest image (width x height) of an uploaded frame or a render -> 413.
        max_program_chars: longest program text -> 413 (the checker's own E300 limits apply below it).
        run_timeout_s: wall-clock seconds a program may run -> 408 (diagnostic R411).
        max_sessions: live sessions open at once -> 429.
        max_video_frames: frames read from one uploaded video -> 413 when the video is longer.
    """

    max_upload_bytes: int = 64 * 1024 * 1024
    max_frame_pixels: int = 4096 * 4096
    max_program_chars: int = 20_000
    run_timeout_s: float = 10.0
    max_sessions: int = 4
    max_video_frames: int = 20_000


@dataclass(frozen=True)
class ServerConfig:
    """Everything the application needs.

    Attributes:
        roots: folders whose sub-folders are the served memories (``GET /api/memories`` lists them).
        save_root: where live sessions are saved (default: the first root).
        host: address uvicorn binds; anything but loopback requires ``token``.
        token: bearer token required on every request when set.
        limits: request limits.
        llm: optional :class:`~spatialmem.agent.llm_client.LLMConfig` for the ``llm`` / ``chain`` planners.
        cache_memories: loaded memories kept in RAM at most (least recently used dropped first).
    """

    roots: tuple[Path, ...]
    save_root: Path | None = None
    host: str = "127.0.0.1"
    token: str | None = None
    limits: ServerLimits = field(default_factory=ServerLimits)
    llm: object | None = None
    cache_memories: int = 16

    def validate(self) -> ServerConfig:
        """Check roots and the host/token rule; raises InputError naming the fix."""
        if not self.roots:
            raise InputError("give at least one memories folder: spatialmem serve --memories DIR")
        for r in self.roots:
            if not Path(r).is_dir():
                raise InputError(f"--memories {r} is not a folder")
        if self.token is not None and len(self.token) < 8:
            raise InputError("--token must be at least 8 characters long")
        if not is_loopback(self.host) and not self.token:
            raise InputError(f"binding {self.host} exposes the server beyond this machine; pass --token SECRET "
                             "(clients then send 'Authorization: Bearer SECRET'), or bind 127.0.0.1")
        return self

    @property
    def session_root(self) -> Path:
        return Path(self.save_root) if self.save_root is not None else Path(self.roots[0])


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
