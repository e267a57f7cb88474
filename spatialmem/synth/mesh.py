"""Triangle meshes and box tables built from a scene's box parts, plus the shared shading model.

Both renderers consume a :class:`SceneMesh`: the GL renderer draws its triangles, the CPU renderer
ray-casts its boxes. Colour is computed the same way in both (GLSL in render_gl mirrors
:func:`shade_np`): a procedural texture that depends on the world position, the surface normal
and the part's material (value noise from an integer hash, wood grain, floor tiles), plus the
high-frequency detail real rooms have (a centimetre-scale grain on every surface, a weave on
fabric, posters and pictures on the walls) so that feature-based structure from motion finds
corners everywhere, times a fixed two-light Lambert shading. Room structure has instance id 0, objects their scene id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatialmem.synth.scene_spec import MATERIALS, Part, SceneSpec

# Material table: (amplitude, scale1 m, scale2 m, weight2, pattern, detail) -- pattern 0 none, 1 wood,
# 2 tiles, 3 fabric weave; detail: amplitude of the centimetre grain (value noise at DETAIL_SCALE_M).
MATERIAL_PARAMS = np.array([
    # amp   s1     s2     w2   pattern detail
    [0.22, 0.09, 0.018, 0.45, 0, 0.30],  # plain
    [0.30, 0.25, 0.012, 0.35, 1, 0.25],  # wood
    [0.28, 0.05, 0.008, 0.60, 3, 0.30],  # fabric
    [0.18, 0.12, 0.015, 0.40, 0, 0.25],  # metal
    [0.45, 0.06, 0.020, 0.50, 0, 0.10],  # screen
    [0.20, 0.15, 0.030, 0.40, 0, 0.15],  # glass
    [0.20, 0.14, 0.022, 0.55, 0, 0.35],  # plaster
    [0.22, 0.07, 0.015, 0.45, 2, 0.30],  # tiles
    [0.40, 0.05, 0.015, 0.40, 0, 0.30],  # leaf
    [0.05, 0.20, 0.050, 0.50, 0, 0.00],  # emissive
], dtype=np.float32)
DETAIL_SCALE_M = 0.025  # lattice of the grain: about 2-5 pixels at 1-3 m in a 320-640 px wide frame
WEAVE_M = 0.03  # fabric weave period
POSTER_CELL_M = 1.7  # walls (plaster) carry at most one poster or picture per cell of this width
assert len(MATERIAL_PARAMS) == len(MATERIALS)
EMISSIVE = MATERIALS.index("emissive")
PLASTER = MATERIALS.index("plaster")
LIGHT1 = np.array([0.35, 0.25, 0.9], np.float32) / np.linalg.norm([0.35, 0.25, 0.9]).astype(np.float32)
LIGHT2 = np.array([-0.5, -0.7, 0.3], np.float32) / np.linalg.norm([-0.5, -0.7, 0.3]).astype(np.float32)

# 24 vertices (4 per face) and 12 triangles of a unit box centred at the origin.
_FACE_N = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], np.float64)


def _unit_box() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    verts, norms, tris = [], [], []
    for n in _FACE_N:
        a = np.argmax(np.abs(n))
        u, v = [i for i in range(3) if i != a]
        base = len(verts)
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            p = n * 0.5
            p = p.copy()
            p[u], p[v] = su * 0.5, sv * 0.5
            verts.append(p)
            norms.append(n)
        tris += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    return np.array(verts), np.array(norms), np.array(tris, np.int64)


_UV, _UN, _UT = _unit_box()


@dataclass(frozen=True, eq=False)
class SceneMesh:
    """Geometry of a scene in two forms (float32 world coordinates, metres).

    Attributes:
        positions, normals, colors: (V, 3) float32 per vertex.
        materials: (V,) float32 material index per vertex.
        ids: (V,) int32 instance id per vertex (0 = structure).
        triangles: (T, 3) uint32 vertex indices.
        box_centers: (B, 3) float64; box_axes: (B, 3, 3) rows = axes; box_half: (B, 3) half sizes.
        box_colors: (B, 3) float32; box_materials: (B,) int32; box_ids: (B,) int32.
    """

    positions: np.ndarray
    normals: np.ndarray
    colors: np.ndarray
    materials: np.ndarray
    ids: np.ndarray
    triangles: np.ndarray
    box_centers: np.ndarray
    box_axes: np.ndarray
    box_half: np.ndarray
    box_colors: np.ndarray
    box_materials: np.ndarray
    box_ids: np.ndarray

    def interleaved(self) -> np.ndarray:
        """(V, 11) float32 rows [position, normal, color, material, id-as-float] for a GL buffer."""
        return np.concatenate([self.positions, self.normals, self.colors, self.materials[:, None],
                               self.ids[:, None].astype(np.float32)], axis=1).astype(np.float32)


def build_mesh(spec: SceneSpec) -> SceneMesh:
    """The :class:`SceneMesh` of a scene: room structure (id 0) then every object's parts."""
    items: list[tuple[Part, int]] = [(p, 0) for p in spec.room.structure]
    for o in spec.objects:
        items += [(p, o.id) for p in o.parts]
    B = len(items)
    centers = np.array([p.box.center for p, _ in items])
    axes = np.array([p.box.axes for p, _ in items])
    half = np.array([p.box.size / 2.0 for p, _ in items])
    cols = np.array([p.color for p, _ in items], np.float32)
    mats = np.array([p.material for p, _ in items], np.int32)
    ids = np.array([i for _, i in items], np.int32)
    # vertices: local unit-box coordinates scaled then rotated: world = c + (uv * size) @ axes
    local = _UV[None] * (2 * half)[:, None, :]  # (B, 24, 3)
    pos = centers[:, None, :] + np.einsum("bvk,bkj->bvj", local, axes)
    nrm = np.einsum("vk,bkj->bvj", _UN, axes)
    tris = (_UT[None] + 24 * np.arange(B)[:, None, None]).reshape(-1, 3)
    return SceneMesh(
        positions=pos.reshape(-1, 3).astype(np.float32),
        normals=nrm.reshape(-1, 3).astype(np.float32),
        colors=np.repeat(cols, 24, axis=0),
        materials=np.repeat(mats.astype(np.float32), 24),
        ids=np.repeat(ids, 24),
        triangles=tris.astype(np.uint32),
        box_centers=centers, box_axes=axes, box_half=half, box_colors=cols, box_materials=mats, box_ids=ids,
    )


# ------------------------------------------------------------------------------ texture + shading
def _hash(ix: np.ndarray, iy: np.ndarray, salt: int) -> np.ndarray:
    """Integer hash of lattice cells -> float32 in [0, 1] (same arithmetic as the GLSL ``hash2``)."""
    h = (ix.astype(np.uint32) * np.uint32(0x8DA6B343)) ^ (iy.astype(np.uint32) * np.uint32(0xD8163841))
    h = h ^ np.uint32(salt * 0x2C1B3C6D & 0xFFFFFFFF)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0x5BD1E995)
    h = h ^ (h >> np.uint32(15))
    return (h & np.uint32(0xFFFFFF)).astype(np.float32) / np.float32(16777215.0)


def _noise(u: np.ndarray, v: np.ndarray, salt: int) -> np.ndarray:
    """Value noise (bilinear, smoothstep) of float32 lattice coordinates."""
    fu, fv = np.floor(u), np.floor(v)
    iu, iv = fu.astype(np.int64) + 65536, fv.astype(np.int64) + 65536
    tu, tv = u - fu, v - fv
    tu, tv = tu * tu * (3 - 2 * tu), tv * tv * (3 - 2 * tv)
    a, b = _hash(iu, iv, salt), _hash(iu + 1, iv, salt)
    c, d = _hash(iu, iv + 1, salt), _hash(iu + 1, iv + 1, salt)
    return (a + (b - a) * tu) + ((c + (d - c) * tu) - (a + (b - a) * tu)) * tv


def _noise3(p: np.ndarray, salt: int) -> np.ndarray:
    """Solid value noise (trilinear, smoothstep) of (N, 3) float32 lattice coordinates: unlike the surface
    noise it differs between parallel faces (floor and ceiling, opposite walls), so no two places look alike."""
    f = np.floor(p)
    i = f.astype(np.int64) + 65536
    t = p - f
    t = t * t * (3 - 2 * t)
    out = np.zeros(len(p), np.float32)
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                w = ((t[:, 0] if dx else 1 - t[:, 0]) * (t[:, 1] if dy else 1 - t[:, 1])
                     * (t[:, 2] if dz else 1 - t[:, 2]))
                out += w * _hash(i[:, 0] + dx, (i[:, 1] + dy) + (i[:, 2] + dz) * 7919, salt)
    return out


def shade_np(pos: np.ndarray, nrm: np.ndarray, color: np.ndarray, material: np.ndarray) -> np.ndarray:
    """(N, 3) float32 colour in 0..1 of surface points; inputs (N, 3), (N, 3), (N, 3), (N,) int."""
    pos, nrm = pos.astype(np.float32), nrm.astype(np.float32)
    an = np.abs(nrm)
    use_z = (an[:, 2] >= an[:, 0]) & (an[:, 2] >= an[:, 1])
    use_x = ~use_z & (an[:, 0] >= an[:, 1])
    u = np.where(use_z, pos[:, 0], np.where(use_x, pos[:, 1], pos[:, 0]))
    v = np.where(use_z, pos[:, 1], pos[:, 2])
    prm = MATERIAL_PARAMS[material]
    amp, s1, s2, w2, pat, det = prm[:, 0], prm[:, 1], prm[:, 2], prm[:, 3], prm[:, 4], prm[:, 5]
    n1 = _noise(u / s1, v / s1, 1)
    n2 = _noise(u / s2, v / s2, 2)
    t = n1 * (1 - w2) + n2 * w2
    grain = np.float32(0.5) + np.float32(0.5) * np.sin(np.float32(60.0) * (u + v * np.float32(0.15)) + 8.0 * n1)
    t = np.where(pat == 1, t * np.float32(0.6) + grain * np.float32(0.4), t)
    fu, fv = u / np.float32(0.4) - np.floor(u / np.float32(0.4)), v / np.float32(0.4) - np.floor(v / np.float32(0.4))
    line = (fu < 0.03) | (fv < 0.03)
    t = np.where((pat == 2) & line, np.float32(-0.6), t)
    weave = np.abs(np.sin(u * np.float32(np.pi / WEAVE_M))) * np.abs(np.sin(v * np.float32(np.pi / WEAVE_M)))
    t = np.where(pat == 3, t * np.float32(0.7) + weave * np.float32(0.5), t)
    grain = _noise3(pos / np.float32(DETAIL_SCALE_M), 3) - np.float32(0.5)
    tex = np.float32(1.0) - amp + amp * t + det * grain
    color, tex = _posters(pos, u, v, nrm, material, color.astype(np.float32), tex)
    lam = (np.float32(0.55) + np.float32(0.4) * np.maximum(nrm @ LIGHT1, 0)
           + np.float32(0.2) * np.maximum(nrm @ LIGHT2, 0))
    lam = np.where(material == EMISSIVE, np.float32(1.15), lam)
    return np.clip(color * (tex * lam)[:, None], 0.0, 1.0).astype(np.float32)


def _posters(pos: np.ndarray, u: np.ndarray, v: np.ndarray, nrm: np.ndarray, material: np.ndarray, color: np.ndarray,
             tex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posters and pictures on walls: in half of the POSTER_CELL_M cells along a wall, between 1.15 and
    1.85 m high, a framed picture of 8 cm colour blocks; cells of walls 0.5 m apart differ.

    Inputs are (N,) / (N, 3) float32; returns (colour, tex)."""
    cell = np.floor(u / np.float32(POSTER_CELL_M))
    fu = u / np.float32(POSTER_CELL_M) - cell
    ci = cell.astype(np.int64) + 65536
    across = np.where(np.abs(nrm[:, 0]) >= np.abs(nrm[:, 1]), pos[:, 0], pos[:, 1])  # the wall's own position
    wq = np.floor(across * 2 + 0.2371).astype(np.int64) + 4096
    on = (material == PLASTER) & (np.abs(nrm[:, 2]) < 0.5) & (_hash(ci, wq, 5) < 0.5)
    on &= (fu > 0.25) & (fu < 0.75) & (v > 1.15) & (v < 1.85)
    if not on.any():
        return color, tex
    bu = np.floor(u / np.float32(0.08)).astype(np.int64) + 65536
    bv = np.floor(v / np.float32(0.08)).astype(np.int64) + 65536 + wq * 7919
    block = np.stack([_hash(bu, bv, 11), _hash(bu, bv, 12), _hash(bu, bv, 13)], axis=1)
    frame = (fu < 0.27) | (fu > 0.73) | (v < 1.18) | (v > 1.82)
    pic = np.where(frame[:, None], np.float32(0.12), np.float32(0.1) + np.float32(0.9) * block)
    color = np.where(on[:, None], pic, color)
    return color, np.where(on, np.float32(1.0), tex)


def to_uint8(rgb01: np.ndarray) -> np.ndarray:
    """Colour in 0..1 to uint8 (round half up, as the GL framebuffer conversion)."""
    return np.floor(np.clip(rgb01, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# ------------------------------------------------------------------------------ ray casting
def ray_box_hits(origin: np.ndarray, dirs: np.ndarray, center: np.ndarray, axes: np.ndarray, half: np.ndarray,
                 t_min: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Entry distance of rays into one solid box (inf where missed) and the entry face.

    Args:
        origin: (3,) ray origin (world); dirs: (N, 3) ray directions (any length; t is in their units).
        center, axes, half: the box (axes rows are its unit axes).
        t_min: hits closer than this (in t) are ignored, as a near plane.

    Returns:
        (t (N,) float64 entry parameter or inf, face (N,) int8: axis*2 + (1 if the -axis face)).
    """
    dt = dirs.dtype  # float32 rays keep the arithmetic in float32
    o = (axes @ (origin - center)).astype(dt)  # (3,)
    d = dirs @ axes.T.astype(dt)  # (N, 3)
    half = half.astype(dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1 = (-half - o) * inv
        t2 = (half - o) * inv
    # Rays parallel to a slab: inside the slab -> (-inf, inf), outside -> empty.
    par = d == 0
    inside = np.abs(o) <= half
    t1 = np.where(par, np.where(inside, -np.inf, np.inf), t1)
    t2 = np.where(par, np.where(inside, np.inf, -np.inf), t2)
    tn, tf = np.minimum(t1, t2), np.maximum(t1, t2)
    enter_axis = np.argmax(tn, axis=1)
    t_enter = np.max(tn, axis=1)
    t_exit = np.min(tf, axis=1)
    hit = (t_enter <= t_exit) & (t_enter > t_min)
    neg = np.take_along_axis(d, enter_axis[:, None], axis=1)[:, 0] > 0  # entering through the -axis face
    return np.where(hit, t_enter, np.inf), (enter_axis * 2 + neg).astype(np.int8)


def segment_blocked(a: np.ndarray, b: np.ndarray, mesh: SceneMesh, skip_ids: np.ndarray) -> np.ndarray:
    """(N,) bool: whether the segments a[i] -> b[i] ((N, 3) each) cross any box whose id is not skipped.

    ``skip_ids`` (N,) gives per segment the instance id to ignore (the target object itself).
    """
    d = b - a
    blocked = np.zeros(len(a), bool)
    for k in range(len(mesh.box_ids)):
        o = (a - mesh.box_centers[k]) @ mesh.box_axes[k].T
        dd = d @ mesh.box_axes[k].T
        h = mesh.box_half[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = (-h - o) / dd, (h - o) / dd
        par = dd == 0
        ins = np.abs(o) <= h
        t1 = np.where(par, np.where(ins, -np.inf, np.inf), t1)
        t2 = np.where(par, np.where(ins, np.inf, -np.inf), t2)
        tn, tf = np.minimum(t1, t2).max(axis=1), np.maximum(t1, t2).min(axis=1)
        hit = (tn <= tf) & (tf > 0.02) & (tn < 0.98)
        blocked |= hit & (skip_ids != mesh.box_ids[k])
    return blocked
