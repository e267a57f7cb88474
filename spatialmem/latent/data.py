"""Streaming episodes for the latent memories, built from the synthetic world (numpy only, no torch).

An :class:`Episode` is a walkthrough of one procedural room (``spatialmem.synth``) turned into
**object-level visual tokens**: for every frame, the objects in view (inside the image, 0.1-8 m in
front of the camera, the line of sight to their box centre not crossing another object's part),
each as a category id plus its world 3D box (centre and size, metres). The token's 3D point is the
box centre. These are the "object-level tokens (category embedding + 3D box) from the scene" the
issue allows; no pixels are rendered. :func:`episode_from_memory` builds the same tokens from an
explicit :class:`~spatialmem.memory.scene.SceneMemory` (its camera poses and fused instances).

Questions are asked after the last frame and need frames long out of a working window of
``window`` frames:

* ``count``  — how many distinct <c> were seen in the whole stream (some seen before the window);
* ``first``  — which of <a> / <b> appeared first (first sightings at least ``window`` frames apart);
* ``closer`` — which of <a> / <b> (first seen far apart in time) is closer to the <r> in view now;
* ``recent`` — how many distinct <c> were seen in the last ``window`` frames (short-term memory);
* ``now``    — is a <c> in view in the current frame (answerable without memory).

``needs`` says which memory answers a question: ``long`` (count, first, closer), ``short``
(recent) or ``none`` (now); Stage II of VisMem rewards invoking the right one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError
from spatialmem.fsutil import swap_into_place, temp_sibling
from spatialmem.geometry.boxes import box_distance
from spatialmem.synth.catalog import CATEGORIES
from spatialmem.types import Intrinsics

MAX_TOKENS_PER_FRAME = 16
MAX_COUNT = 6  # count answers are clipped to 0..MAX_COUNT
QUESTION_KINDS = ("count", "first", "closer", "recent", "now")
NEEDS = {"count": "long", "first": "long", "closer": "long", "recent": "short", "now": "none"}
EPISODE_FORMAT = "spatialmem-latent-episode"


@dataclass(frozen=True)
class Question:
    """One question about an episode, asked after its last frame.

    Attributes:
        kind: one of :data:`QUESTION_KINDS`.
        categories: category ids (indices into ``CATEGORIES``): (c,), (a, b) or (a, b, r).
        answer: class index: a count (0..MAX_COUNT), 0/1 for "a"/"b", or 0/1 for no/yes.
        needs: "long", "short" or "none" (:data:`NEEDS`).
    """

    kind: str
    categories: tuple[int, ...]
    answer: int
    needs: str

    @property
    def text(self) -> str:
        names = [CATEGORIES[c] for c in self.categories]
        return {
            "count": lambda: f"how many {names[0]} did you see ?",
            "first": lambda: f"which appeared first : {names[0]} or {names[1]} ?",
            "closer": lambda: f"which is closer to the {names[2]} in view : {names[0]} or {names[1]} ?",
            "recent": lambda: f"how many {names[0]} did you see just now ?",
            "now": lambda: f"is there a {names[0]} in view ?",
        }[self.kind]()

    @property
    def answer_text(self) -> str:
        if self.kind in ("count", "recent"):
            return str(self.answer)
        if self.kind == "now":
            return ("no", "yes")[self.answer]
        return CATEGORIES[self.categories[self.answer]]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "categories": list(self.categories), "answer": self.answer, "needs": self.needs,
                "text": self.text, "answer_text": self.answer_text}

    @classmethod
    def from_dict(cls, d: dict) -> Question:
        return cls(str(d["kind"]), tuple(int(c) for c in d["categories"]), int(d["answer"]), str(d["needs"]))


@dataclass(frozen=True, eq=False)
class Episode:
    """A stream of object-token frames with questions.

    Attributes:
        scene_id: name of the source scene.
        category_ids: (F, T) int64 category index per token, -1 for padding.
        instance_ids: (F, T) int64 object id per token, 0 for padding.
        boxes: (F, T, 6) float32 world box per token: centre xyz then size xyz (metres).
        poses: (F, 4, 4) float64 ``world_from_camera`` per frame.
        fps: frames per second.
        window: the working-window length (frames) the questions were made for.
        questions: the questions.
    """

    scene_id: str
    category_ids: np.ndarray
    instance_ids: np.ndarray
    boxes: np.ndarray
    poses: np.ndarray
    fps: float
    window: int
    questions: tuple[Question, ...]

    @property
    def num_frames(self) -> int:
        return int(self.category_ids.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """(F, T) bool: real tokens."""
        return self.category_ids >= 0

    @property
    def points_world(self) -> np.ndarray:
        """(F, T, 3) float32 3D point of each token (its box centre, metres)."""
        return self.boxes[..., :3]


def _visible(centers: np.ndarray, poses: np.ndarray, K: Intrinsics, max_depth_m: float = 8.0) -> np.ndarray:
    """(F, N) bool: object centre projects inside the image at 0.1..max_depth_m metres."""
    R, t = poses[:, :3, :3], poses[:, :3, 3]
    cam = np.einsum("fji,fnj->fni", R, centers[None] - t[:, None])  # R^T (p - t)
    z = cam[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = K.fx * cam[..., 0] / z + K.cx
        v = K.fy * cam[..., 1] / z + K.cy
    return (z > 0.1) & (z < max_depth_m) & (u >= 0) & (u < K.width) & (v >= 0) & (v < K.height)


def _frame_tokens(visible: np.ndarray, cats: np.ndarray, ids: np.ndarray, boxes6: np.ndarray, poses: np.ndarray,
                  max_tokens: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    F, N = visible.shape
    cat_out = np.full((F, max_tokens), -1, np.int64)
    id_out = np.zeros((F, max_tokens), np.int64)
    box_out = np.zeros((F, max_tokens, 6), np.float32)
    for f in range(F):
        idx = np.flatnonzero(visible[f])
        if len(idx) > max_tokens:  # keep the nearest
            d = np.linalg.norm(boxes6[idx, :3] - poses[f, :3, 3], axis=1)
            idx = idx[np.argsort(d, kind="stable")[:max_tokens]]
        cat_out[f, :len(idx)] = cats[idx]
        id_out[f, :len(idx)] = ids[idx]
        box_out[f, :len(idx)] = boxes6[idx]
    return cat_out, id_out, box_out


def episode_from_scene(seed: int, num_frames: int, fps: float = 2.0, window: int = 8,
                       max_tokens: int = MAX_TOKENS_PER_FRAME, questions_per_kind: int = 3) -> Episode:
    """Generate the synthetic room of ``seed`` with a walkthrough of ``num_frames`` frames and tokenise it.

    Args:
        seed: scene seed (as ``spatialmem synth --seed``); also seeds the question sampler.
        num_frames: frames in the stream (>= 2 * window).
        fps: frames per second of the walkthrough (2 fps: 1,024 frames are 8.5 minutes).
        window: working-window length in frames the questions must reach beyond.
        max_tokens: tokens per frame (the nearest objects in view are kept).
        questions_per_kind: at most this many questions of each kind.
    """
    from spatialmem.synth.mesh import segment_blocked
    from spatialmem.synth.writer import SynthConfig, generate_scene

    if num_frames < 2 * window:
        raise InputError(f"num_frames must be at least 2 * window = {2 * window}, got {num_frames}")
    spec, mesh, _ = generate_scene(seed, num_frames, fps)
    K = SynthConfig().intrinsics
    objs = spec.objects
    cats = np.array([CATEGORIES.index(o.category) for o in objs], np.int64)
    ids = np.array([o.id for o in objs], np.int64)
    centers = np.array([o.box.center for o in objs], np.float64)
    boxes6 = np.concatenate([centers, [o.box.size for o in objs]], axis=1).astype(np.float32)
    vis = _visible(centers, spec.poses, K)
    f_idx, o_idx = np.nonzero(vis)
    if len(f_idx):  # drop objects whose box centre is hidden behind another object's part
        keep = mesh.box_ids != 0
        objects_only = replace(mesh, box_centers=mesh.box_centers[keep], box_axes=mesh.box_axes[keep],
                               box_half=mesh.box_half[keep], box_ids=mesh.box_ids[keep])
        blocked = segment_blocked(spec.poses[f_idx, :3, 3], centers[o_idx], objects_only, ids[o_idx])
        vis[f_idx[blocked], o_idx[blocked]] = False
    cat_f, id_f, box_f = _frame_tokens(vis, cats, ids, boxes6, spec.poses, max_tokens)
    box_of = {int(o.id): o.box for o in objs}
    qs = make_questions(cat_f, id_f, box_of, window, np.random.default_rng(seed + 7919), questions_per_kind)
    return Episode(spec.scene_name, cat_f, id_f, box_f, spec.poses.copy(), float(fps), int(window), tuple(qs))


def episode_from_memory(memory, window: int = 8, max_tokens: int = MAX_TOKENS_PER_FRAME,
                        questions_per_kind: int = 3, seed: int = 0) -> Episode:
    """Tokenise an explicit memory: per camera of its trajectory, the fused instances in view.

    Uses the memory's camera poses and intrinsics and its instances' categories, ids and boxes
    (categories unknown to the synthetic catalogue are skipped).
    """
    if len(memory.cameras) < 2 * window:
        raise InputError(f"memory {memory.scene_id!r} has {len(memory.cameras)} cameras; need at least {2 * window}")
    insts = [i for i in memory.instances if i.category in CATEGORIES]
    if not insts:
        raise InputError(f"memory {memory.scene_id!r} has no instance of a known category")
    poses = np.stack([c.world_from_camera for c in memory.cameras]).astype(np.float64)
    cats = np.array([CATEGORIES.index(i.category) for i in insts], np.int64)
    ids = np.array([i.id for i in insts], np.int64)
    centers = np.array([i.box.center for i in insts], np.float64)
    boxes6 = np.concatenate([centers, [i.box.size for i in insts]], axis=1).astype(np.float32)
    vis = _visible(centers, poses, memory.cameras[0].intrinsics)
    cat_f, id_f, box_f = _frame_tokens(vis, cats, ids, boxes6, poses, max_tokens)
    ts = [c.timestamp_s for c in memory.cameras]
    fps = (len(ts) - 1) / max(ts[-1] - ts[0], 1e-6)
    qs = make_questions(cat_f, id_f, {int(i.id): i.box for i in insts}, window, np.random.default_rng(seed),
                        questions_per_kind)
    return Episode(memory.scene_id, cat_f, id_f, box_f, poses, float(fps), int(window), tuple(qs))


def patch_points_world(depth_m: np.ndarray, K: Intrinsics, world_from_camera: np.ndarray,
                       grid_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """World 3D point of each patch token of a VLM's vision grid, from a depth image and pose.

    The image is cut into ``grid_hw`` (rows, cols) patches; a patch's point is the back-projection
    of its centre pixel at the median valid depth inside the patch.

    Args:
        depth_m: (H, W) metres along the optical axis, 0 = no measurement.
        K: intrinsics of the depth image.
        world_from_camera: 4x4 pose.
        grid_hw: token grid, e.g. (H / 28, W / 28) for Qwen2-VL after its 2x2 merge.

    Returns:
        ((rows * cols, 3) float32 world points in token order (row-major), (rows * cols,) bool valid).
    """
    from spatialmem.geometry.projection import camera_to_world, unproject

    depth = np.asarray(depth_m, dtype=np.float32)
    H, W = depth.shape
    gh, gw = grid_hw
    ys, xs = np.linspace(0, H, gh + 1).astype(int), np.linspace(0, W, gw + 1).astype(int)
    us, vs, ds = [], [], []
    for r in range(gh):
        for c in range(gw):
            patch = depth[ys[r]:ys[r + 1], xs[c]:xs[c + 1]]
            good = patch[np.isfinite(patch) & (patch > 0)]
            us.append((xs[c] + xs[c + 1] - 1) / 2.0)
            vs.append((ys[r] + ys[r + 1] - 1) / 2.0)
            ds.append(float(np.median(good)) if len(good) else 0.0)
    d = np.asarray(ds, np.float32)
    pts = camera_to_world(unproject(np.asarray(us), np.asarray(vs), d, K), world_from_camera)
    return pts.astype(np.float32), d > 0


def make_questions(cat_f: np.ndarray, id_f: np.ndarray, box_of: dict, window: int, rng: np.random.Generator,
                   per_kind: int) -> list[Question]:
    """Questions of every kind that the stream supports (see the module docstring)."""
    F = cat_f.shape[0]
    recent_from = F - window
    first_seen: dict[int, int] = {}
    last_seen: dict[int, int] = {}
    cat_of: dict[int, int] = {}
    for f in range(F):
        for c, i in zip(cat_f[f], id_f[f]):
            if c < 0:
                continue
            first_seen.setdefault(int(i), f)
            last_seen[int(i)] = f
            cat_of[int(i)] = int(c)
    by_cat: dict[int, list[int]] = {}
    for i, c in cat_of.items():
        by_cat.setdefault(c, []).append(i)
    singles = sorted(c for c, ins in by_cat.items() if len(ins) == 1)
    out: list[Question] = []

    def pick(items, n):
        items = list(items)
        return [items[k] for k in rng.permutation(len(items))[:n]]

    # count: a category with an instance last seen before the window
    cands = sorted(c for c, ins in by_cat.items() if any(last_seen[i] < recent_from for i in ins))
    for c in pick(cands, per_kind):
        out.append(Question("count", (c,), min(len(by_cat[c]), MAX_COUNT), "long"))
    # first: two single-instance categories first seen >= window frames apart, the earlier before the window
    pairs = [(a, b) for a in singles for b in singles if a < b
             and abs(first_seen[by_cat[a][0]] - first_seen[by_cat[b][0]]) >= window
             and min(first_seen[by_cat[a][0]], first_seen[by_cat[b][0]]) < recent_from]
    for a, b in pick(pairs, per_kind):
        if rng.random() < 0.5:
            a, b = b, a
        out.append(Question("first", (a, b), int(first_seen[by_cat[b][0]] < first_seen[by_cat[a][0]]), "long"))
    # closer: a, b first seen >= max(window, F/4) frames apart; r in view in the last frame
    now_cats = {int(c) for c in cat_f[-1] if c >= 0}
    now_list = [int(c) for c in cat_f[-1] if c >= 0]
    now_single = {int(c): int(i) for c, i in zip(cat_f[-1], id_f[-1]) if c >= 0 and now_list.count(int(c)) == 1}
    gap = max(window, F // 4)
    triples = []
    for a, b in [(a, b) for a in singles for b in singles if a < b]:
        ia, ib = by_cat[a][0], by_cat[b][0]
        if abs(first_seen[ia] - first_seen[ib]) < gap or min(last_seen[ia], last_seen[ib]) >= recent_from:
            continue
        for r in sorted(set(now_single) - {a, b}):
            ir = now_single[r]
            da, db = box_distance(box_of[ia], box_of[ir]), box_distance(box_of[ib], box_of[ir])
            if abs(da - db) >= 0.5:
                triples.append((a, b, r, int(db < da)))
    for a, b, r, ans in pick(triples, per_kind):
        out.append(Question("closer", (a, b, r), ans, "long"))
    # recent: distinct instances of c in the last `window` frames
    recent_ids = {int(i) for i in id_f[recent_from:].ravel() if i > 0}
    rc = sorted({cat_of[i] for i in recent_ids})
    for c in pick(rc, per_kind):
        out.append(Question("recent", (c,), min(sum(1 for i in recent_ids if cat_of[i] == c), MAX_COUNT), "short"))
    # now: yes / no, balanced
    seen_cats = sorted(by_cat)
    yes = sorted(now_cats)
    no = sorted(set(seen_cats) - now_cats)
    for c in pick(yes, max(1, per_kind // 2)):
        out.append(Question("now", (c,), 1, "none"))
    for c in pick(no, max(1, per_kind - per_kind // 2)):
        out.append(Question("now", (c,), 0, "none"))
    return out


def save_episode(ep: Episode, path: str | os.PathLike) -> Path:
    """Write ``ep`` as ``<path>.npz`` (arrays) + ``<path>.json`` (scene, fps, window, questions)."""
    path = Path(path)
    np.savez_compressed(path.with_suffix(".npz.tmp.npz"), category_ids=ep.category_ids, instance_ids=ep.instance_ids,
                        boxes=ep.boxes, poses=ep.poses)
    os.replace(path.with_suffix(".npz.tmp.npz"), path.with_suffix(".npz"))
    meta = {"format": EPISODE_FORMAT, "version": 1, "scene_id": ep.scene_id, "fps": ep.fps, "window": ep.window,
            "num_frames": ep.num_frames, "questions": [q.to_dict() for q in ep.questions]}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=1) + "\n")
    os.replace(tmp, path.with_suffix(".json"))
    return path.with_suffix(".json")


def load_episode(path: str | os.PathLike) -> Episode:
    """Read an episode written by :func:`save_episode` (give either file or the stem)."""
    stem = Path(path).with_suffix("")
    try:
        meta = json.loads(stem.with_suffix(".json").read_text())
        arr = np.load(stem.with_suffix(".npz"))
        if meta.get("format") != EPISODE_FORMAT:
            raise FormatError(f"{stem}.json: 'format' must be {EPISODE_FORMAT!r}")
        return Episode(str(meta["scene_id"]), arr["category_ids"], arr["instance_ids"], arr["boxes"], arr["poses"],
                       float(meta["fps"]), int(meta["window"]),
                       tuple(Question.from_dict(q) for q in meta["questions"]))
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"{stem}: not a latent episode ({exc}); write one with `spatialmem latent dataset`") from exc


def write_dataset(out: str | os.PathLike, seeds: list[int], num_frames: int, fps: float = 2.0, window: int = 8,
                  progress=None) -> list[Path]:
    """Write one episode per seed into folder ``out`` (``episode_<seed>.npz/.json``), atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(out)
    tmp.mkdir()
    try:
        for k, s in enumerate(seeds):
            save_episode(episode_from_scene(s, num_frames, fps, window), tmp / f"episode_{s:05d}")
            if progress is not None:
                progress(k + 1, len(seeds))
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_into_place(tmp, out)
    return [out / f"episode_{s:05d}.json" for s in seeds]


def load_dataset(folder: str | os.PathLike) -> list[Episode]:
    """All episodes of a folder written by :func:`write_dataset`, in name order."""
    files = sorted(Path(folder).glob("episode_*.json"))
    if not files:
        raise InputError(f"{folder}: no episode_*.json; build one with `spatialmem latent dataset --out {folder}`")
    return [load_episode(f) for f in files]
