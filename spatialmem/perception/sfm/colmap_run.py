"""One pycolmap reconstruction of a set of keyframes: features, sequential + loop matching, incremental mapping.

:func:`reconstruct` writes the keyframes as JPEGs into a temporary folder, extracts SIFT features
(at most ``max_features`` per image), matches each keyframe with the next ``overlap`` ones plus
*loop candidates* (pairs far apart in time whose thumbnails look alike, see :func:`loop_pairs`;
COLMAP's own loop detection needs a vocabulary-tree file that is not shipped), verifies them
geometrically and runs COLMAP's incremental mapper. With known intrinsics the camera is a fixed
``PINHOLE``; otherwise it is ``SIMPLE_RADIAL`` started from a 60 degree guess and refined by bundle
adjustment (self-calibration). The mapper's models are merged into one and keyframes it left out are
localized by absolute pose (:mod:`.merge`); when that registers less than ``retry_below`` of the
keyframes, the mapper runs once more with relaxed initialisation and registration thresholds.

One model is returned: poses are ``world_from_camera`` in the model's arbitrary similarity frame
(OpenCV camera axes, as COLMAP's).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from spatialmem.errors import require_package
from spatialmem.perception.sfm import merge
from spatialmem.types import Intrinsics

pycolmap = require_package("pycolmap", "sfm", "the 'sfm' geometry backend")
pycolmap.logging.minloglevel = 3  # COLMAP logs would drown the command line; failures are reported by the caller


@dataclass(frozen=True)
class ColmapOptions:
    """Settings of one reconstruction.

    Attributes:
        max_features: SIFT features per keyframe.
        max_image_size: keyframes are downscaled so the longer side is at most this (pixels) before SIFT.
        upsample_below: SIFT starts one octave below the image (upsampled 2x, COLMAP's default, which finds
            more small features) only when the longer side is below this; larger images start at their own
            resolution, which is about 4x faster.
        overlap: each keyframe is matched with this many following keyframes.
        loop_candidates: extra pairs per keyframe from thumbnail similarity (0 disables loop matching).
        loop_min_gap: loop pairs are at least this many keyframes apart.
        min_tri_angle_deg: initial pair triangulation angle (COLMAP's default 16 is tuned for photo collections).
        retry_below: registered fraction under which the mapper is re-run with relaxed thresholds.
        threads: worker threads for extraction, matching and mapping.
        seed: random seed of RANSAC and the mapper (results are repeatable for a fixed seed and thread count).
    """

    max_features: int = 2048
    max_image_size: int = 640
    upsample_below: int = 480
    overlap: int = 8
    loop_candidates: int = 2
    loop_min_gap: int = 12
    min_tri_angle_deg: float = 6.0
    retry_below: float = 0.8
    threads: int = 2
    seed: int = 0


@dataclass(frozen=True, eq=False)
class SparseModel:
    """The merged model of a reconstruction.

    Attributes:
        poses: keyframe position (index into the input list) -> (4, 4) ``world_from_camera`` in the model frame.
        intrinsics: the camera used (refined when self-calibrating), at the input images' resolution.
        points_xyz: (P, 3) float64 triangulated points in the model frame.
        observations: keyframe position -> ((M, 2) float32 pixel coordinates at the input resolution,
            (M,) int64 row in ``points_xyz``) of the points that keyframe sees.
        n_images: keyframes given; timings_s: seconds per stage ("features", "matching", "mapping").
        localized: keyframe positions posed by absolute pose from 2D-3D matches after the mapper
            (:func:`.merge.localize`), not by the mapper itself.
    """

    poses: dict[int, np.ndarray]
    intrinsics: Intrinsics
    points_xyz: np.ndarray
    observations: dict[int, tuple[np.ndarray, np.ndarray]]
    n_images: int
    timings_s: dict[str, float] = field(default_factory=dict)
    localized: set[int] = field(default_factory=set)

    @property
    def registered_fraction(self) -> float:
        return len(self.poses) / max(self.n_images, 1)


def _thumb(rgb: np.ndarray, w: int = 32) -> np.ndarray:
    """A mean-free, unit-norm grey thumbnail (w x 3w/4) used to find loop candidates."""
    h = max(2, w * rgb.shape[0] // rgb.shape[1])
    g = np.asarray(Image.fromarray(rgb).convert("L").resize((w, h), Image.BILINEAR), np.float64)
    g = g - g.mean()
    return (g / max(np.linalg.norm(g), 1e-9)).ravel()


def loop_pairs(images: list[np.ndarray], k: int, min_gap: int) -> list[tuple[int, int]]:
    """Up to ``k`` pairs per image with the most similar thumbnails among images >= ``min_gap`` away.

    Wrong candidates are harmless: geometric verification drops pairs without a consistent two-view geometry.
    """
    if k <= 0 or len(images) <= min_gap:
        return []
    th = np.stack([_thumb(im) for im in images])
    sim = th @ th.T
    n = len(images)
    idx = np.arange(n)
    sim[np.abs(idx[:, None] - idx[None, :]) < min_gap] = -np.inf
    pairs = set()
    for i in range(n):
        for j in np.argsort(-sim[i])[:k]:
            if np.isfinite(sim[i, j]) and sim[i, j] > 0.3:
                pairs.add((min(i, int(j)), max(i, int(j))))
    return sorted(pairs)


def _mapping_options(known: bool, opts: ColmapOptions, relaxed: bool):
    mo = pycolmap.IncrementalPipelineOptions()
    mo.num_threads = opts.threads
    mo.random_seed = opts.seed
    mo.min_model_size = 3
    mo.ba_refine_focal_length = not known
    mo.ba_refine_extra_params = not known
    mo.ba_refine_principal_point = False
    mo.mapper.init_min_tri_angle = opts.min_tri_angle_deg / (2.0 if relaxed else 1.0)
    mo.mapper.random_seed = opts.seed
    mo.mapper.num_threads = opts.threads
    mo.triangulation.random_seed = opts.seed
    # video: many small steps; fewer, shorter bundle adjustments cost little accuracy
    mo.ba_global_frames_ratio = 1.3
    mo.ba_global_points_ratio = 1.3
    mo.ba_global_max_num_iterations = 30
    mo.ba_local_max_num_iterations = 20
    if relaxed:
        mo.mapper.init_min_num_inliers = 50
        mo.mapper.abs_pose_min_num_inliers = 15
        mo.mapper.abs_pose_min_inlier_ratio = 0.15
        mo.min_num_matches = 10
    return mo


def reconstruct(images: list[np.ndarray], intrinsics: Intrinsics, known_intrinsics: bool,
                options: ColmapOptions | None = None) -> SparseModel | None:
    """Reconstruct ``images`` ((H, W, 3) uint8 keyframes in time order, all the same size).

    Args:
        intrinsics: the camera at the images' resolution (the start value when not ``known_intrinsics``).
        known_intrinsics: keep ``intrinsics`` fixed (PINHOLE) instead of self-calibrating.

    Returns:
        The merged model, or None when nothing could be reconstructed.
    """
    opts = options or ColmapOptions()
    pycolmap.set_random_seed(opts.seed)
    h, w = images[0].shape[:2]
    s = min(1.0, opts.max_image_size / max(h, w))
    sw, sh = max(16, round(w * s)), max(16, round(h * s))
    K = intrinsics.scaled(sw, sh)
    tmp = Path(tempfile.mkdtemp(prefix="spatialmem_sfm_"))
    try:
        img_dir = tmp / "images"
        img_dir.mkdir()
        names = [f"{i:06d}.jpg" for i in range(len(images))]
        for name, im in zip(names, images):
            pil = Image.fromarray(im)
            if (sw, sh) != (w, h):
                pil = pil.resize((sw, sh), Image.BILINEAR)
            pil.save(img_dir / name, quality=95)
        db = tmp / "db.db"
        t0 = time.perf_counter()
        reader = pycolmap.ImageReaderOptions()
        if known_intrinsics:
            reader.camera_model = "PINHOLE"
            reader.camera_params = ",".join(f"{v:.6f}" for v in (K.fx, K.fy, K.cx + 0.5, K.cy + 0.5))
        else:
            reader.camera_model = "SIMPLE_RADIAL"
            reader.camera_params = ",".join(f"{v:.6f}" for v in (K.fx, K.cx + 0.5, K.cy + 0.5, 0.0))
        ext = pycolmap.FeatureExtractionOptions()
        ext.num_threads = opts.threads
        ext.max_image_size = max(sw, sh)
        ext.sift.max_num_features = opts.max_features
        ext.sift.first_octave = -1 if max(sw, sh) < opts.upsample_below else 0
        pycolmap.extract_features(db, img_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                                  reader_options=reader, extraction_options=ext, device=pycolmap.Device.cpu)
        t1 = time.perf_counter()
        match = pycolmap.FeatureMatchingOptions()
        match.num_threads = opts.threads
        verify = pycolmap.TwoViewGeometryOptions()
        verify.ransac.random_seed = opts.seed
        seq = pycolmap.SequentialPairingOptions()
        seq.overlap = opts.overlap
        seq.quadratic_overlap = False
        pycolmap.match_sequential(db, matching_options=match, pairing_options=seq, verification_options=verify,
                                  device=pycolmap.Device.cpu)
        loops = loop_pairs(images, opts.loop_candidates, max(opts.loop_min_gap, opts.overlap + 1))
        if loops:
            pair_file = tmp / "loops.txt"
            pair_file.write_text("".join(f"{names[a]} {names[b]}\n" for a, b in loops))
            imported = pycolmap.ImportedPairingOptions()
            imported.match_list_path = str(pair_file)
            pycolmap.match_image_pairs(db, matching_options=match, pairing_options=imported,
                                       verification_options=verify, device=pycolmap.Device.cpu)
        t2 = time.perf_counter()
        best: tuple[merge.Model, object] | None = None
        db_data = None
        for relaxed in (False, True):
            recs = pycolmap.incremental_mapping(db, img_dir, tmp / ("sparse_r" if relaxed else "sparse"),
                                                _mapping_options(known_intrinsics, opts, relaxed))
            if not recs:
                continue
            if db_data is None:
                db_data = _read_database(db)
            ids, keypoints, matches = db_data
            n_kp = {i: len(k) for i, k in keypoints.items()}
            camera = max(recs.values(), key=lambda r: r.num_reg_images()).cameras
            camera = next(iter(camera.values()))
            model, _ = merge.merge_models([merge.from_reconstruction(r, n_kp) for r in recs.values()], matches,
                                          seed=opts.seed)
            merge.localize(model, list(ids.values()), keypoints, matches, camera, seed=opts.seed)
            if best is None or len(model.poses) > len(best[0].poses):
                best = (model, camera)
            if len(best[0].poses) >= opts.retry_below * len(images):
                break
        t3 = time.perf_counter()
        if best is None:
            return None
        return _to_model(best[0], best[1], db_data[0], db_data[1], names, (w, h), s, len(images),
                         {"features": t1 - t0, "matching": t2 - t1, "mapping": t3 - t2})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_database(db: Path) -> tuple[dict[str, int], dict[int, np.ndarray], dict[tuple[int, int], np.ndarray]]:
    """Image ids by name, keypoints per image id ((n, >=2) COLMAP pixels) and the verified inlier matches
    per image pair ((M, 2) keypoint indices)."""
    d = pycolmap.Database.open(str(db))
    try:
        ids = {im.name: int(im.image_id) for im in d.read_all_images()}
        keypoints = {i: np.asarray(d.read_keypoints(i), np.float64) for i in ids.values()}
        matches = {}
        for pid, tvg in zip(*d.read_two_view_geometries()):
            mm = np.asarray(tvg.inlier_matches, np.int64).reshape(-1, 2)
            if len(mm):
                matches[tuple(int(v) for v in pycolmap.pair_id_to_image_pair(pid))] = mm
    finally:
        d.close()
    return ids, keypoints, matches


def _to_model(model: merge.Model, cam, ids: dict[str, int], keypoints: dict[int, np.ndarray], names: list[str],
              size: tuple[int, int], s: float, n: int, timings: dict) -> SparseModel:
    poses: dict[int, np.ndarray] = {}
    obs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    localized = set()
    for k, name in enumerate(names):
        iid = ids.get(name)
        if iid is None or iid not in model.poses:
            continue
        poses[k] = model.poses[iid]
        if iid in model.localized:
            localized.add(k)
        kp = model.kp_point[iid]
        has = np.nonzero(kp >= 0)[0]
        uv = keypoints[iid][has, :2] / s - 0.5  # COLMAP pixel centres at +0.5
        obs[k] = (uv.astype(np.float32), kp[has])
    f = cam.params
    w, h = size
    if cam.model.name == "PINHOLE":
        fx, fy, cx, cy = f[0], f[1], f[2], f[3]
    else:  # SIMPLE_RADIAL / SIMPLE_PINHOLE: f, cx, cy (, k)
        fx = fy = f[0]
        cx, cy = f[1], f[2]
    # COLMAP puts pixel centres at +0.5 (ours at integers); coordinates scale about the image corner
    K = Intrinsics(fx / s, fy / s, cx / s - 0.5, cy / s - 0.5, w, h)
    return SparseModel(poses, K, model.xyz, obs, n, timings, localized)
