"""The FastAPI application of ``spatialmem serve`` (OpenAPI docs at ``/docs``).

Routes (every error is a problem-details JSON object, see :mod:`.problems`):

* ``GET /`` the viewer; ``GET /static/...`` its files; ``GET /api/health``.
* ``GET /api/memories`` names; ``/api/memories/{name}`` + the *memory routes* below.
* ``POST /api/sessions`` opens a live session; ``GET/DELETE /api/sessions/{sid}``;
  ``POST .../frames`` (one frame, multipart), ``POST .../video`` (a video file), ``POST .../save``,
  ``WS .../events`` (progress, new objects, saves); ``/api/sessions/{sid}`` + the *memory routes*
  answer from the memory as it stands.
* memory routes: ``GET ""`` summary (``spatialmem inspect``), ``GET /objects?category=``, ``POST /run``,
  ``POST /check``, ``POST /ask``, ``GET /scene`` (viewer JSON), ``GET /topdown.png``, ``GET /view.png``,
  ``GET /objects/{id}/keyframe.png``, ``GET /keyframes/{frame_index}.png``.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures (local Annotated aliases) at runtime.
import asyncio
import contextlib
import functools
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from spatialmem.memory.export import inspect_dict, instance_dict, scene_dict
from spatialmem.memory.scene import SceneMemory
from spatialmem.server import queries
from spatialmem.server.config import ServerConfig
from spatialmem.server.frames import FrameMeta, build_frame, intrinsics_for
from spatialmem.server.library import MemoryLibrary
from spatialmem.server.problems import ApiProblem, install
from spatialmem.server.security import GuardMiddleware
from spatialmem.server.sessions import SessionManager, SessionSpec

STATIC = Path(__file__).parent / "static"
PNG = {"content": {"image/png": {}}, "description": "PNG image"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunRequest(_Strict):
    program: str = Field(..., description="Program text, e.g. answer(count(objects(\"chair\")))")
    images: bool = Field(False, description="Return images passed to look(...) as PNG data URLs.")


class CheckRequest(_Strict):
    program: str


class AskRequest(_Strict):
    question: str = Field(..., min_length=1, max_length=4000)
    options: list[str] = Field(default_factory=list, max_length=26)
    question_type: str | None = None
    planner: str = Field("chain", description="template | llm | chain")


class SessionRequest(_Strict):
    geometry: str = "given"
    instances: str = "given"
    window: int = Field(8, ge=1, le=256)
    keyframes: int = Field(32, ge=1, le=1024)
    fps: float = Field(10.0, gt=0, le=1000)
    intrinsics: dict[str, float] | None = Field(None, description="fx, fy, cx, cy, width, height (pixels)")
    name: str | None = Field(None, description="Memory name used when the session is saved.")


class SaveRequest(_Strict):
    name: str | None = None


def memory_routes(resolve: Callable[..., SceneMemory], config: ServerConfig, tag: str, pool: Executor) -> APIRouter:
    """The read-only routes over one memory; ``resolve`` is the dependency that yields it.

    Programs and checks run on ``pool``, a small executor of their own: short CPU-bound runs queue in order
    there instead of contending for the GIL with every request thread, which keeps their tail latency low.
    """
    r = APIRouter(tags=[tag])
    lim = config.limits
    Mem = Annotated[SceneMemory, Depends(resolve)]

    def side(name: str, default: int):
        return Query(default, ge=16, le=4096, description=f"{name} in pixels")

    def check_pixels(w: int, h: int) -> None:
        if w * h > lim.max_frame_pixels:
            raise ApiProblem(413, "Image too large", f"{w}x{h} exceeds the limit of {lim.max_frame_pixels} pixels")

    @r.get("", summary="Summary (what `spatialmem inspect` shows)")
    def summary(mem: Mem) -> dict[str, Any]:
        return {**inspect_dict(mem), "summary": mem.summary()}

    @r.get("/objects", summary="Objects, optionally of one category")
    def objects(mem: Mem, category: str | None = None) -> list[dict[str, Any]]:
        items = mem.instances if category is None else mem.by_category(category)
        return [instance_dict(i) for i in items]

    async def off(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))

    @r.post("/run", summary="Run a query-language program")
    async def run(mem: Mem, req: RunRequest) -> dict[str, Any]:
        return await off(queries.run_program_dict, mem, req.program, lim.max_program_chars, lim.run_timeout_s,
                         req.images)

    @r.post("/check", summary="Check a program (diagnostics only, nothing runs)")
    async def check(mem: Mem, req: CheckRequest) -> dict[str, Any]:
        return await off(queries.check_program_dict, mem, req.program, lim.max_program_chars)

    @r.post("/ask", summary="Answer a question with a planner")
    def ask(mem: Mem, req: AskRequest) -> dict[str, Any]:
        return queries.ask_dict(mem, req.question, req.options, req.question_type, req.planner, config.llm)

    @r.get("/scene", summary="Points, boxes, cameras and keyframes as JSON for the viewer")
    def scene(mem: Mem, max_points: int = Query(60_000, ge=0, le=1_000_000)) -> dict[str, Any]:
        return scene_dict(mem, max_points)

    @r.get("/topdown.png", summary="Top-down map", response_class=Response, responses={200: PNG})
    def topdown(mem: Mem, width: int = side("width", 800)) -> Response:
        check_pixels(width, width)
        return Response(queries.topdown_png(mem, width), media_type="image/png")

    @r.get("/view.png", summary="Render the memory from a viewpoint", response_class=Response, responses={200: PNG})
    def view(mem: Mem, x: float, y: float, facing_x: float, facing_y: float, z: float | None = None,
             width: int = side("width", 640), height: int = side("height", 480),
             hfov_deg: float = Query(90.0, gt=10, lt=170)) -> Response:
        check_pixels(width, height)
        return Response(queries.view_png(mem, x, y, facing_x, facing_y, z, width, height, hfov_deg),
                        media_type="image/png")

    @r.get("/objects/{object_id}/keyframe.png", summary="The keyframe that best shows an object",
           response_class=Response, responses={200: PNG})
    def object_keyframe(mem: Mem, object_id: int) -> Response:
        return Response(queries.keyframe_png(mem, object_id), media_type="image/png")

    @r.get("/keyframes/{frame_index}.png", summary="A stored keyframe (thumbnail with width)",
           response_class=Response, responses={200: PNG})
    def keyframe(mem: Mem, frame_index: int, width: int | None = Query(None, ge=16, le=4096)) -> Response:
        return Response(queries.frame_png(mem, frame_index, width), media_type="image/png")

    return r


def create_app(config: ServerConfig) -> FastAPI:
    """The application for ``config`` (validated first)."""
    config.validate()
    library = MemoryLibrary(config.roots, config.cache_memories)
    sessions = SessionManager(config.limits.max_sessions, config.session_root)
    lim = config.limits
    dsl_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="spatialmem-dsl")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            await run_in_threadpool(sessions.save_all)  # shutdown: keep what the live sessions built
            dsl_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="spatialmem", version=_version(),
                  description="Spatial memory of scenes: query programs, questions, renders and live sessions.",
                  lifespan=lifespan)
    app.state.config, app.state.library, app.state.sessions = config, library, sessions
    install(app)
    app.add_middleware(GuardMiddleware, token=config.token, max_body_bytes=lim.max_upload_bytes)

    async def memory_of(name: str) -> SceneMemory:
        hit = library.cached(name)  # a dict look-up and a stat(): no thread hop for a loaded memory
        return hit if hit is not None else await run_in_threadpool(library.get, name)

    def session_memory(sid: str) -> SceneMemory:
        return sessions.get(sid).snapshot()

    app.include_router(memory_routes(memory_of, config, "memories", dsl_pool), prefix="/api/memories/{name}")
    app.include_router(memory_routes(session_memory, config, "sessions", dsl_pool),
                       prefix="/api/sessions/{sid}/memory")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/health", tags=["server"])
    def health() -> dict[str, Any]:
        return {"ok": True, "version": _version(), "sessions": len(sessions.list())}

    @app.get("/api/memories", tags=["memories"], summary="The served memories")
    def list_memories() -> list[dict[str, Any]]:
        return library.names()

    # ------------------------------------------------------------------ live sessions
    @app.post("/api/sessions", tags=["sessions"], status_code=201, summary="Open a live session")
    def open_session(req: SessionRequest) -> dict[str, Any]:
        K = None
        if req.intrinsics is not None:
            w, h = int(req.intrinsics.get("width", 0)), int(req.intrinsics.get("height", 0))
            if w < 1 or h < 1:
                raise ApiProblem(400, "Invalid intrinsics", "intrinsics need width and height (pixels)")
            K = intrinsics_for(req.intrinsics, None, w, h)
        s = sessions.create(SessionSpec(req.geometry, req.instances, req.window, req.keyframes, req.fps, K, req.name))
        return s.status()

    @app.get("/api/sessions", tags=["sessions"])
    def list_sessions() -> list[dict[str, Any]]:
        return [s.status() for s in sessions.list()]

    @app.get("/api/sessions/{sid}", tags=["sessions"])
    def session_status(sid: str) -> dict[str, Any]:
        return sessions.get(sid).status()

    @app.delete("/api/sessions/{sid}", tags=["sessions"], summary="Close a session (save=true saves it first)")
    def close_session(sid: str, save: bool = False) -> dict[str, Any]:
        return sessions.close(sid, save=save)

    @app.post("/api/sessions/{sid}/frames", tags=["sessions"], summary="Send one frame")
    def add_frame(sid: str, rgb: Annotated[UploadFile, File(description="PNG/JPEG or .npy (H, W, 3) uint8")],
                  depth: Annotated[UploadFile | None, File(description="16-bit PNG (mm) or .npy float32 m")] = None,
                  instances: Annotated[UploadFile | None, File(description="16-bit PNG / .npy instance ids")] = None,
                  meta: Annotated[str | None, Form(description="JSON: index, timestamp_s, world_from_camera, "
                                                               "intrinsics, labels, depth_scale")] = None
                  ) -> dict[str, Any]:
        s = sessions.get(sid)
        m = FrameMeta.parse(meta)
        index, t = s.next_index_and_time(m.index, m.timestamp_s)
        frame = build_frame(m, rgb.file.read(), None if depth is None else depth.file.read(),
                            None if instances is None else instances.file.read(), index=index, timestamp_s=t,
                            default_intrinsics=s.intrinsics, max_pixels=lim.max_frame_pixels)
        return s.add_frame(frame)

    @app.post("/api/sessions/{sid}/video", tags=["sessions"], summary="Send a video file (decoded frame by frame)")
    def add_video(sid: str, video: Annotated[UploadFile, File(description="mp4 / mkv / webm ...")],
                  hfov_deg: Annotated[float, Form(gt=10, lt=170)] = 60.0) -> dict[str, Any]:
        from spatialmem.sources.video import VideoSource

        s = sessions.get(sid)
        suffix = Path(video.filename or "upload.mp4").suffix[:8] or ".mp4"
        fd, tmp = tempfile.mkstemp(prefix="spatialmem-upload-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                while chunk := video.file.read(1 << 20):
                    f.write(chunk)
            source = VideoSource(tmp, hfov_deg=hfov_deg, intrinsics=s.intrinsics)
            if len(source) > lim.max_video_frames:
                raise ApiProblem(413, "Video too long", f"the video has {len(source)} frames; the limit is "
                                 f"{lim.max_video_frames}")
            if source.width * source.height > lim.max_frame_pixels:
                raise ApiProblem(413, "Frame too large", f"video frames are {source.width}x{source.height}; the "
                                 f"limit is {lim.max_frame_pixels} pixels")
            added, last = 0, s.status()
            offset = 0.0 if s.last_timestamp_s is None else s.last_timestamp_s + 1.0 / s.spec.fps
            for fr in source:
                index, _ = s.next_index_and_time(None, None)
                last = s.add_frame(_renumber(fr, index, offset + fr.timestamp_s))
                added += 1
            return {**last, "frames_added": added}
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    @app.post("/api/sessions/{sid}/save", tags=["sessions"], summary="Save the session's memory (atomic)")
    def save_session(sid: str, req: SaveRequest | None = None) -> dict[str, Any]:
        s = sessions.get(sid)
        name, _ = s.save(config.session_root, None if req is None else req.name)
        return {"session": sid, "name": name, "n_frames": s.builder.n_frames,
                "served": any(Path(r).resolve() == config.session_root.resolve() for r in config.roots)}

    @app.websocket("/api/sessions/{sid}/events")
    async def events(ws: WebSocket, sid: str) -> None:
        try:
            s = sessions.get(sid)
        except ApiProblem:
            await ws.close(code=1008, reason="no such session")
            return
        await ws.accept()
        q = s.subscribe()
        try:
            await ws.send_json({"type": "hello", **s.status()})
            while True:
                ev = await q.get()
                await ws.send_json(ev)
                if ev.get("type") == "closed":
                    await ws.close()
                    return
        except (WebSocketDisconnect, asyncio.CancelledError):
            pass
        finally:
            s.unsubscribe(q)

    return app


def _renumber(frame, index: int, timestamp_s: float):
    import dataclasses

    return dataclasses.replace(frame, index=index, timestamp_s=timestamp_s)


def _version() -> str:
    from spatialmem import __version__

    return __version__
