"""One generic lazy registry for every pluggable backend.

A backend is registered by *kind* (``"geometry"``, ``"instances"``, ``"renderer"``, ``"planner"``,
``"executor"``, ``"source"`` ...) and *name* with an import path ``"package.module:Attr"``; the module is only
imported when that backend is built, so heavy optional dependencies stay optional. Third-party
packages can add backends through the ``spatialmem.backends`` entry-point group, whose entry names
are ``"kind.name"``.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from spatialmem.errors import BackendError

ENTRY_POINT_GROUP = "spatialmem.backends"


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and what it needs."""

    kind: str
    name: str
    target: str  # "package.module:Attr"
    extra: str | None = None  # pip extra that provides its dependencies
    doc: str = ""


#: The importable modules each pip extra of spatialmem provides (what `spatialmem backends` checks).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "render": ("moderngl",),
    "video": ("av",),
    "llm": ("openai",),
    "bench": ("pyarrow", "matplotlib"),
    "learned": ("torch", "transformers"),
    "ray": ("ray",),
    "sfm": ("pycolmap",),
    "phone": ("av", "OpenEXR", "lzfse"),
}

_REGISTRY: dict[tuple[str, str], BackendSpec] = {}
_ENTRY_POINTS_LOADED = False


def register(kind: str, name: str, target: str, *, extra: str | None = None, doc: str = "") -> None:
    """Register (or replace) the backend ``name`` of ``kind`` at import path ``target``."""
    if ":" not in target:
        raise BackendError(f"backend target {target!r} must look like 'package.module:Attr'")
    _REGISTRY[(kind, name)] = BackendSpec(kind, name, target, extra, doc)


def unregister(kind: str, name: str) -> None:
    """Remove a registered backend (a no-op when it is not registered)."""
    _REGISTRY.pop((kind, name), None)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = ep.name.partition(".")
        if kind and name and (kind, name) not in _REGISTRY:
            register(kind, name, ep.value)


def names(kind: str) -> list[str]:
    """Sorted names of every backend registered for ``kind``."""
    _load_entry_points()
    return sorted(n for (k, n) in _REGISTRY if k == kind)


def spec(kind: str, name: str) -> BackendSpec:
    """The :class:`BackendSpec` of a backend; raises :class:`BackendError` naming the choices."""
    _load_entry_points()
    try:
        return _REGISTRY[(kind, name)]
    except KeyError:
        choices = ", ".join(names(kind)) or "none registered"
        raise BackendError(f"unknown {kind} backend {name!r}; choose one of: {choices}") from None


def resolve(kind: str, name: str) -> Any:
    """Import and return the object a backend points at (a class or a factory function)."""
    s = spec(kind, name)
    module_name, _, attr = s.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if s.extra:
            from spatialmem.errors import MissingDependencyError

            raise MissingDependencyError(exc.name or module_name, s.extra, f"{kind} backend {name!r}") from exc
        raise
    try:
        return getattr(module, attr)
    except AttributeError:
        raise BackendError(f"backend {kind}/{name}: {module_name} has no attribute {attr!r}") from None


def build(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Resolve a backend and call it with the given arguments (usually a config dataclass)."""
    return resolve(kind, name)(*args, **kwargs)


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend can run here.

    Attributes:
        spec: the backend's registration.
        missing: importable modules its pip extra provides that are not installed.
        models: ``(model id, weights present locally?)`` for each model it loads by default
            (``None`` = cannot tell, e.g. without huggingface_hub).
        get: the command that would get what is missing ("" when nothing is).
    """

    spec: BackendSpec
    missing: tuple[str, ...]
    models: tuple[tuple[str, bool | None], ...]
    get: str

    @property
    def ready(self) -> bool:
        """Dependencies installed and no default weights known to be missing."""
        return not self.missing and all(p is not False for _, p in self.models)


def status(kind: str, name: str) -> BackendStatus:
    """Check a backend's dependencies and default weights without building it.

    The backend's module is imported only when its extra's modules are all present; a backend object
    with a ``required_models()`` class method names the model ids it loads by default.
    """
    s = spec(kind, name)
    missing = tuple(m for m in EXTRA_MODULES.get(s.extra or "", ()) if importlib.util.find_spec(m) is None)
    models: tuple[tuple[str, bool | None], ...] = ()
    if not missing:
        try:
            required = getattr(resolve(kind, name), "required_models", None)
        except ImportError:
            required = None
        if required is not None:
            from spatialmem.perception.hub import weights_present

            models = tuple((m, weights_present(m)) for m in required())
    if missing:
        get = f"pip install 'spatialmem[{s.extra}]'"
    elif any(p is False for _, p in models):
        ids = [m for m, p in models if p is False]
        get = "; ".join(f"hf download {m}" for m in ids) + " (or pass --model-dir FOLDER holding them)"
    else:
        get = ""
    return BackendStatus(s, missing, models, get)


def kinds() -> list[str]:
    """Every kind with at least one registered backend, sorted."""
    _load_entry_points()
    return sorted({k for k, _ in _REGISTRY})


# Built-in backends. Each module registers nothing itself: this table is the single place to look.
_BUILTINS: list[tuple[str, str, str, str | None, str]] = [
    ("renderer", "gl", "spatialmem.synth.render_gl:GLRenderer", "render", "moderngl on headless EGL"),
    ("renderer", "cpu", "spatialmem.synth.render_cpu:CPURenderer", None, "pure numpy rasterizer"),
    ("geometry", "given", "spatialmem.perception.geometry_given:GivenGeometry", None, "poses + depth of the source"),
    ("geometry", "fake", "spatialmem.perception.fakes:FakeGeometry", None, "test double"),
    ("geometry", "sfm", "spatialmem.perception.sfm.backend:SfmGeometry", "sfm",
     "structure from motion (pycolmap) on plain RGB: poses, sparse depth, gravity, metric scale from priors"),
    ("geometry", "noisy", "spatialmem.perception.noisy:NoisyGeometry", None,
     "source poses + depth with simulated depth noise, pose drift and scale error (--noise LEVEL)"),
    ("geometry", "depth", "spatialmem.perception.depth_learned:LearnedDepthGeometry", "learned",
     "learned monocular metric depth (transformers), aligned to sparse SfM depth when present"),
    ("instances", "given", "spatialmem.perception.instances_given:GivenInstances", None, "source masks + labels"),
    ("instances", "fake", "spatialmem.perception.fakes:FakeInstances", None, "test double"),
    ("instances", "noisy", "spatialmem.perception.noisy:NoisyInstances", None,
     "source masks with simulated misses, false positives, confusions and mask errors (--noise LEVEL)"),
    ("instances", "open-vocab", "spatialmem.perception.open_vocab:OpenVocabInstances", "learned",
     "open-vocabulary detector (OWLv2) + SAM masks (transformers), prompted with a vocabulary"),
    ("planner", "template", "spatialmem.agent.template:TemplatePlanner", None, "rule-based VSI-Bench planner"),
    ("planner", "llm", "spatialmem.agent.llm_planner:LLMPlanner", "llm", "OpenAI-compatible chat model"),
    ("planner", "chain", "spatialmem.agent.chain:ChainPlanner", None, "template first, then LLM if configured"),
    ("executor", "local", "spatialmem.scale.executors:LocalExecutor", None, "a local process pool"),
    ("executor", "ray", "spatialmem.scale.executors:RayExecutor", "ray", "one Ray task per scene, local or cluster"),
    # frame sources, one per capture layout (how each is recognised: spatialmem.sources.LAYOUTS)
    ("source", "synthetic", "spatialmem.sources.synthetic:SyntheticSceneSource", None,
     "synthetic scene folder: scene.json + frames.jsonl"),
    ("source", "scannet", "spatialmem.sources.scannet:ScanNetSource", None,
     "ScanNet export: color/, depth/, pose/, intrinsic/ (+ label-filt/, instance-filt/)"),
    ("source", "tum", "spatialmem.sources.tum:TUMSource", None,
     "TUM RGB-D: rgb.txt, depth.txt, groundtruth.txt (depth in 1/5000 m)"),
    ("source", "7scenes", "spatialmem.sources.sevenscenes:SevenScenesSource", None,
     "7-Scenes style: frame-XXXXXX.color.png, .depth.png, .pose.txt (or one seq-* folder of them)"),
    ("source", "replica", "spatialmem.sources.replica:ReplicaSource", None,
     "Replica / NICE-SLAM: results/frameXXXXXX.jpg, results/depthXXXXXX.png, traj.txt"),
    ("source", "stray", "spatialmem.sources.phone:StraySource", "video",
     "Stray Scanner: rgb.mp4, depth/, confidence/, odometry.csv, camera_matrix.csv"),
    ("source", "record3d", "spatialmem.sources.phone:Record3DSource", "phone",
     "Record3D: a .r3d file, or an EXR+JPG export (metadata.json, rgbd/<n>.jpg + <n>.exr)"),
    ("source", "arkitscenes", "spatialmem.sources.phone:ARKitScenesSource", None,
     "ARKitScenes raw: lowres_wide/, lowres_depth/, lowres_wide_intrinsics/*.pincam, lowres_wide.traj"),
    ("source", "video", "spatialmem.sources.video:VideoSource", "video",
     "a video file (.mp4, .mov, .mkv ...: spatialmem.sources.VIDEO_SUFFIXES), read with PyAV"),
    ("source", "images", "spatialmem.sources.images:ImageFolderSource", None,
     "a folder of .jpg/.png images (colour only)"),
]
for _kind, _name, _target, _extra, _doc in _BUILTINS:
    register(_kind, _name, _target, extra=_extra, doc=_doc)
