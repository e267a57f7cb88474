"""Live sessions: a :class:`~spatialmem.memory.builder.MemoryBuilder` per session, fed frame by frame.

Each session owns its builder (sessions never share state); a lock serialises its frames, and
questions asked mid-stream are answered from :meth:`LiveSession.snapshot`, the memory as it stands
(cached until the next frame). Progress and newly confirmed objects are published to subscribers
(WebSocket clients) through their asyncio queues. Saving writes the snapshot with
:func:`~spatialmem.memory.store.save_memory` (atomic directory swap), on request and at shutdown.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialmem.memory.builder import BuilderConfig, MemoryBuilder
from spatialmem.memory.scene import SceneMemory
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.server.library import check_name
from spatialmem.server.problems import ApiProblem
from spatialmem.types import Frame, Intrinsics

_QUEUE_SIZE = 2000


@dataclass(frozen=True)
class SessionSpec:
    """What a client asks for when it opens a session.

    Attributes:
        geometry / instances: registry names of the perception backends (``given`` uses the client's pose,
            depth and instance masks).
        window / keyframes: working-memory size W and episodic keyframe capacity K.
        fps: frame rate used for timestamps the client leaves out.
        intrinsics: default camera for frames that carry none.
        name: the memory name :meth:`LiveSession.save` uses by default (and at shutdown).
    """

    geometry: str = "given"
    instances: str = "given"
    window: int = 8
    keyframes: int = 32
    fps: float = 10.0
    intrinsics: Intrinsics | None = None
    name: str | None = None


class LiveSession:
    """One streaming memory; thread-safe."""

    def __init__(self, spec: SessionSpec) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.spec = spec
        self.name = spec.name or f"session-{self.id}"
        self.config = BuilderConfig(window=spec.window, keyframes=spec.keyframes,
                                    geometry=GeometryConfig(spec.geometry), instances=InstancesConfig(spec.instances))
        self.builder = MemoryBuilder(self.config, scene_id=self.name,
                                     metadata={"source": "live session", "source_kind": "LiveSession"})
        self.created_s = time.time()
        self.intrinsics = spec.intrinsics
        self.busy_s = 0.0  # seconds spent in builder steps
        self._lock = threading.RLock()
        self._snap: tuple[int, SceneMemory] | None = None
        self._announced: set[int] = set()
        self._last_index = -1
        self.last_timestamp_s: float | None = None
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = []
        self.closed = False

    # ------------------------------------------------------------------ frames
    def next_index_and_time(self, index: int | None, timestamp_s: float | None) -> tuple[int, float]:
        """The frame index and timestamp a new frame gets (checked to increase)."""
        with self._lock:
            k = self._last_index + 1 if index is None else int(index)
            if k <= self._last_index:
                raise ApiProblem(409, "Frame out of order", f"frame index {k} is not after the last frame "
                                 f"({self._last_index}); send frames in order")
            t = k / self.spec.fps if timestamp_s is None else float(timestamp_s)
            return k, t

    def add_frame(self, frame: Frame) -> dict[str, Any]:
        """Ingest one frame; returns the progress record (also published to subscribers)."""
        with self._lock:
            if self.closed:
                raise ApiProblem(409, "Session closed", f"session {self.id} is closed")
            if frame.index <= self._last_index:
                raise ApiProblem(409, "Frame out of order", f"frame index {frame.index} is not after the last "
                                 f"frame ({self._last_index})")
            t0 = time.perf_counter()
            self.builder.step(frame)
            self.busy_s += time.perf_counter() - t0
            self._last_index = frame.index
            self.last_timestamp_s = frame.timestamp_s
            if self.intrinsics is None:
                self.intrinsics = frame.intrinsics
            new = self._new_objects()
            progress = self.status()
        for ob in new:
            self.publish({"type": "object", "session": self.id, "frame_index": frame.index, **ob})
        self.publish({"type": "progress", **progress})
        return {**progress, "new_objects": new}

    def _new_objects(self) -> list[dict[str, Any]]:
        """Instances that just passed the snapshot's confirmation thresholds (id, category, axis-aligned extent)."""
        cfg, out = self.builder.config, []  # the settings in force (robust ones for estimated perception)
        for iid, inst in self.builder.instances.items():
            if iid in self._announced or inst.n_observations < cfg.min_observations \
                    or len(inst) < cfg.min_instance_points:
                continue
            self._announced.add(iid)
            lo, hi = inst.aabb()
            out.append({"id": int(iid), "category": inst.category,
                        "center": [round(float(v), 3) for v in (lo + hi) / 2],
                        "size": [round(float(v), 3) for v in hi - lo]})
        return out

    def status(self) -> dict[str, Any]:
        b = self.builder
        return {"session": self.id, "name": self.name, "n_frames": b.n_frames, "n_instances": b.n_instances,
                "last_index": self._last_index, "busy_s": round(self.busy_s, 4),
                "frames_per_busy_s": round(b.n_frames / self.busy_s, 2) if self.busy_s > 0 else None,
                "geometry": self.config.geometry.name, "instances": self.config.instances.name, "closed": self.closed}

    # ------------------------------------------------------------------ memory
    def snapshot(self) -> SceneMemory:
        """The memory as it stands now (cached until the next frame)."""
        with self._lock:
            n = self.builder.n_frames
            if self._snap is None or self._snap[0] != n:
                self._snap = (n, self.builder.snapshot())
            return self._snap[1]

    def save(self, root: Path, name: str | None = None) -> tuple[str, Path]:
        """Save the current snapshot as memory ``name`` under ``root`` (atomic; replaces an older save)."""
        from spatialmem.memory.store import save_memory

        name = check_name(name or self.name, "session memory")
        memory = self.snapshot()
        path = save_memory(memory, Path(root) / name, overwrite=True)
        self.publish({"type": "saved", "session": self.id, "name": name, "n_frames": self.builder.n_frames})
        return name, path

    # ------------------------------------------------------------------ events
    def subscribe(self) -> asyncio.Queue:
        """A queue receiving this session's events (call from the event loop that will read it)."""
        q: asyncio.Queue = asyncio.Queue(maxsize=_QUEUE_SIZE)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), q))
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = [(lp, s) for lp, s in self._subscribers if s is not q]

    def publish(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to every subscriber (thread-safe; a full queue drops the event)."""
        with self._lock:
            subs = list(self._subscribers)
        for loop, q in subs:
            try:
                loop.call_soon_threadsafe(_offer, q, event)
            except RuntimeError:  # that loop is closed
                self.unsubscribe(q)


def _offer(q: asyncio.Queue, event: dict) -> None:
    try:
        q.put_nowait(event)
    except asyncio.QueueFull:
        pass


class SessionManager:
    """The open sessions, capped at ``max_sessions``."""

    def __init__(self, max_sessions: int, save_root: Path) -> None:
        self.max_sessions, self.save_root = int(max_sessions), Path(save_root)
        self._sessions: dict[str, LiveSession] = {}
        self._lock = threading.Lock()

    def create(self, spec: SessionSpec) -> LiveSession:
        """Open a session (429 when ``max_sessions`` are open; 400 for unknown backends)."""
        if spec.name is not None:
            check_name(spec.name, "session memory")
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise ApiProblem(429, "Too many sessions", f"{self.max_sessions} live sessions are open already; "
                                 "close one (DELETE /api/sessions/{id}) or raise --max-sessions")
            session = LiveSession(spec)  # builds the backends: BackendError -> 400
            self._sessions[session.id] = session
        return session

    def get(self, sid: str) -> LiveSession:
        with self._lock:
            s = self._sessions.get(sid)
        if s is None:
            raise ApiProblem(404, "Session not found", f"no open session {sid!r}; POST /api/sessions opens one")
        return s

    def list(self) -> list[LiveSession]:
        with self._lock:
            return list(self._sessions.values())

    def close(self, sid: str, save: bool = False) -> dict[str, Any]:
        """Close a session, saving it first when asked."""
        s = self.get(sid)
        saved = self.save_root / s.save(self.save_root)[0] if save and s.builder.n_frames else None
        with self._lock:
            self._sessions.pop(sid, None)
        s.closed = True
        s.publish({"type": "closed", "session": sid})
        return {"session": sid, "saved": None if saved is None else saved.name}

    def save_all(self) -> list[str]:
        """Save every session that received frames (at shutdown); returns the names written."""
        names = []
        for s in self.list():
            if s.builder.n_frames:
                names.append(s.save(self.save_root)[0])
        return names
