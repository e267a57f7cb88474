"""CPURenderer: a pure-numpy fallback with the GL renderer's outputs, for machines without EGL.

Every scene primitive is a box, so instead of rasterising triangles it casts one ray per pixel
centre against every box (slab test) and keeps the nearest hit: a z-buffer over boxes. Each box
is only tested on the pixels inside the bounding rectangle of its projection (clipped against the
near plane), and boxes out of view are skipped. Depth is the hit's camera z
(metres), the instance id is the box's id, and the colour uses synth.mesh.shade_np, the same
texture and shading formulas as the GLSL shader.
"""

from __future__ import annotations

import numpy as np

from spatialmem.geometry.boxes import BOX_EDGES, CORNER_SIGNS
from spatialmem.synth.mesh import SceneMesh, ray_box_hits, shade_np, to_uint8
from spatialmem.synth.render_gl import NEAR
from spatialmem.types import Intrinsics, check_pose


class CPURenderer:
    """Ray-cast a :class:`SceneMesh` with numpy (slower than GL, same outputs).

    Args:
        mesh: the scene geometry.
    """

    name = "cpu"

    def __init__(self, mesh: SceneMesh) -> None:
        self.mesh = mesh
        self._rays: dict = {}

    def _pixel_rays(self, K: Intrinsics) -> np.ndarray:
        key = (K.fx, K.fy, K.cx, K.cy, K.width, K.height)
        if key not in self._rays:
            u, v = np.meshgrid(np.arange(K.width, dtype=np.float64), np.arange(K.height, dtype=np.float64))
            rays = np.stack([(u - K.cx) / K.fx, (v - K.cy) / K.fy, np.ones_like(u)], axis=-1)
            self._rays[key] = rays.astype(np.float32)
        return self._rays[key]

    def render(self, K: Intrinsics, world_from_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Render one view.

        Returns:
            rgb (H, W, 3) uint8, depth_m (H, W) float32 (0 = no surface), instance (H, W) int32.
        """
        T = check_pose(world_from_camera, "world_from_camera")
        R, eye = T[:3, :3], T[:3, 3]
        W, H = K.width, K.height
        rays_cam = self._pixel_rays(K)  # (H, W, 3) float32 with z = 1: t is the camera depth
        R32 = R.astype(np.float32)
        m = self.mesh
        best_t = np.full((H, W), np.inf)
        best_box = np.full((H, W), -1, np.int64)
        best_face = np.zeros((H, W), np.int8)
        for k in range(len(m.box_ids)):
            win = self._window(K, R, eye, m.box_centers[k], m.box_axes[k], m.box_half[k])
            if win is None:
                continue
            r0, r1, c0, c1 = win
            d = rays_cam[r0:r1, c0:c1].reshape(-1, 3) @ R32.T
            t, face = ray_box_hits(eye, d, m.box_centers[k], m.box_axes[k], m.box_half[k], t_min=NEAR)
            t = t.reshape(r1 - r0, c1 - c0)
            sub = best_t[r0:r1, c0:c1]
            closer = t < sub
            sub[closer] = t[closer]
            best_box[r0:r1, c0:c1][closer] = k
            best_face[r0:r1, c0:c1][closer] = face.reshape(t.shape)[closer]
        hit = np.isfinite(best_t)
        depth = np.where(hit, best_t, 0.0).astype(np.float32)
        inst = np.where(hit, m.box_ids[np.maximum(best_box, 0)], 0).astype(np.int32)
        rgb = np.zeros((H, W, 3), np.uint8)
        if hit.any():
            bi, fi, ti = best_box[hit], best_face[hit].astype(np.int64), best_t[hit]
            pos = eye + ti[:, None] * (rays_cam[hit].astype(np.float64) @ R.T)
            axis_vec = m.box_axes[bi, fi // 2]  # (N, 3)
            nrm = np.where((fi % 2 == 1)[:, None], -axis_vec, axis_vec)
            rgb[hit] = to_uint8(shade_np(pos, nrm, m.box_colors[bi], m.box_materials[bi]))
        return rgb, depth, inst

    @staticmethod
    def _window(K, R, eye, center, axes, half):
        """Pixel rows/cols [r0, r1) x [c0, c1) that can see the box, or None if it is out of view."""
        corners = center + (CORNER_SIGNS * half) @ axes
        pc = (corners - eye) @ R  # camera coordinates
        z = pc[:, 2]
        if np.all(z <= NEAR):
            return None
        if np.any(z <= NEAR):  # straddles the near plane: clip the box edges against it
            za, zb = z[BOX_EDGES[:, 0]], z[BOX_EDGES[:, 1]]
            cross = (za - NEAR) * (zb - NEAR) < 0
            a, b = pc[BOX_EDGES[cross, 0]], pc[BOX_EDGES[cross, 1]]
            t = (NEAR - za[cross]) / (zb[cross] - za[cross])
            pc = np.concatenate([pc[z > NEAR], a + t[:, None] * (b - a)], axis=0)
            z = np.maximum(pc[:, 2], NEAR)
        u = K.fx * pc[:, 0] / z + K.cx
        v = K.fy * pc[:, 1] / z + K.cy
        c0, c1 = int(max(0, np.floor(u.min()))), int(min(K.width, np.ceil(u.max()) + 1))
        r0, r1 = int(max(0, np.floor(v.min()))), int(min(K.height, np.ceil(v.max()) + 1))
        if c0 >= c1 or r0 >= r1:
            return None
        return r0, r1, c0, c1
