"""GLRenderer: moderngl on a headless EGL context; one pass, three render targets.

The pass writes colour (RGBA8, procedural texture + shading, see synth.mesh), metric depth along the
optical axis (R32F, metres, 0 where nothing was hit) and the instance id (R32I, 0 = structure).
The projection maps OpenCV pixel coordinates (pixel centres at integers, y down) straight onto
framebuffer rows, so the read-back buffer is already in image row order (row 0 = top).
"""

from __future__ import annotations

import numpy as np

from spatialmem.errors import RenderError, require_package
from spatialmem.geometry.se3 import invert
from spatialmem.synth.mesh import (
    DETAIL_SCALE_M,
    EMISSIVE,
    LIGHT1,
    LIGHT2,
    MATERIAL_PARAMS,
    PLASTER,
    POSTER_CELL_M,
    WEAVE_M,
    SceneMesh,
)
from spatialmem.types import Intrinsics, check_pose

NEAR, FAR = 0.02, 100.0

_VS = """
#version 330
in vec3 in_pos; in vec3 in_nrm; in vec3 in_col; in float in_mat; in float in_id;
uniform mat4 u_view; uniform mat4 u_proj;
out vec3 v_pos; out vec3 v_nrm; out vec3 v_col; out float v_z; flat out int v_mat; flat out int v_id;
void main() {
    vec4 pc = u_view * vec4(in_pos, 1.0);
    v_pos = in_pos; v_nrm = in_nrm; v_col = in_col; v_z = pc.z;
    v_mat = int(in_mat + 0.5); v_id = int(in_id + 0.5);
    gl_Position = u_proj * pc;
}
"""

_FS = """
#version 330
in vec3 v_pos; in vec3 v_nrm; in vec3 v_col; in float v_z; flat in int v_mat; flat in int v_id;
uniform vec4 u_mat[%(NMAT)d]; uniform vec2 u_mat2[%(NMAT)d];
uniform vec3 u_l1; uniform vec3 u_l2;
layout(location = 0) out vec4 o_rgb;
layout(location = 1) out float o_depth;
layout(location = 2) out int o_id;
float hash2(int ix, int iy, uint salt) {
    uint h = (uint(ix) * 0x8DA6B343u) ^ (uint(iy) * 0xD8163841u);
    h = h ^ (salt * 0x2C1B3C6Du);
    h = h ^ (h >> 13u); h = h * 0x5BD1E995u; h = h ^ (h >> 15u);
    return float(h & 0xFFFFFFu) / 16777215.0;
}
float vnoise(float u, float v, uint salt) {
    float fu = floor(u), fv = floor(v);
    int iu = int(fu) + 65536, iv = int(fv) + 65536;
    float tu = u - fu, tv = v - fv;
    tu = tu * tu * (3.0 - 2.0 * tu); tv = tv * tv * (3.0 - 2.0 * tv);
    float a = hash2(iu, iv, salt), b = hash2(iu + 1, iv, salt);
    float c = hash2(iu, iv + 1, salt), d = hash2(iu + 1, iv + 1, salt);
    return (a + (b - a) * tu) + ((c + (d - c) * tu) - (a + (b - a) * tu)) * tv;
}
float vnoise3(vec3 p, uint salt) {
    vec3 f = floor(p); vec3 t = p - f; t = t * t * (3.0 - 2.0 * t);
    ivec3 i = ivec3(f) + 65536;
    float o = 0.0;
    for (int dx = 0; dx < 2; dx++) for (int dy = 0; dy < 2; dy++) for (int dz = 0; dz < 2; dz++) {
        float w = (dx == 1 ? t.x : 1.0 - t.x) * (dy == 1 ? t.y : 1.0 - t.y) * (dz == 1 ? t.z : 1.0 - t.z);
        o += w * hash2(i.x + dx, (i.y + dy) + (i.z + dz) * 7919, salt);
    }
    return o;
}
void main() {
    vec3 n = normalize(v_nrm); vec3 an = abs(n);
    float u, v;
    if (an.z >= an.x && an.z >= an.y) { u = v_pos.x; v = v_pos.y; }
    else if (an.x >= an.y) { u = v_pos.y; v = v_pos.z; }
    else { u = v_pos.x; v = v_pos.z; }
    vec4 prm = u_mat[v_mat];  // amp, s1, s2, w2
    int pat = int(u_mat2[v_mat].x + 0.5);
    float det = u_mat2[v_mat].y;
    vec3 col = v_col;
    float n1 = vnoise(u / prm.y, v / prm.y, 1u);
    float n2 = vnoise(u / prm.z, v / prm.z, 2u);
    float t = n1 * (1.0 - prm.w) + n2 * prm.w;
    if (pat == 1) { t = t * 0.6 + (0.5 + 0.5 * sin(60.0 * (u + v * 0.15) + 8.0 * n1)) * 0.4; }
    if (pat == 2) {
        float fu = u / 0.4 - floor(u / 0.4), fv = v / 0.4 - floor(v / 0.4);
        if (fu < 0.03 || fv < 0.03) t = -0.6;
    }
    if (pat == 3) {
        float weave = abs(sin(u * %(PI_WEAVE)r)) * abs(sin(v * %(PI_WEAVE)r));
        t = t * 0.7 + weave * 0.5;
    }
    float grain = vnoise3(v_pos / %(DETAIL)r, 3u) - 0.5;
    float tex = 1.0 - prm.x + prm.x * t + det * grain;
    float cell = floor(u / %(POSTER)r);
    int wq = int(floor((an.x >= an.y ? v_pos.x : v_pos.y) * 2.0 + 0.2371)) + 4096;
    float pu = u / %(POSTER)r - cell;
    if (v_mat == %(PLASTER)d && abs(n.z) < 0.5 && hash2(int(cell) + 65536, wq, 5u) < 0.5
        && pu > 0.25 && pu < 0.75 && v > 1.15 && v < 1.85) {
        int bu = int(floor(u / 0.08)) + 65536, bv = int(floor(v / 0.08)) + 65536 + wq * 7919;
        vec3 block = vec3(hash2(bu, bv, 11u), hash2(bu, bv, 12u), hash2(bu, bv, 13u));
        bool fr = pu < 0.27 || pu > 0.73 || v < 1.18 || v > 1.82;
        col = fr ? vec3(0.12) : vec3(0.1) + 0.9 * block;
        tex = 1.0;
    }
    float lam = 0.55 + 0.4 * max(dot(n, u_l1), 0.0) + 0.2 * max(dot(n, u_l2), 0.0);
    if (v_mat == %(EMISSIVE)d) lam = 1.15;
    o_rgb = vec4(clamp(col * tex * lam, 0.0, 1.0), 1.0);
    o_depth = v_z;
    o_id = v_id;
}
"""


def projection_from_intrinsics(K: Intrinsics, near: float = NEAR, far: float = FAR) -> np.ndarray:
    """4x4 clip matrix for an OpenCV camera; framebuffer row r = image row r (no flip needed)."""
    W, H = K.width, K.height
    P = np.zeros((4, 4))
    P[0, 0], P[0, 2] = 2 * K.fx / W, 2 * (K.cx + 0.5) / W - 1
    P[1, 1], P[1, 2] = 2 * K.fy / H, 2 * (K.cy + 0.5) / H - 1
    P[2, 2], P[2, 3] = (far + near) / (far - near), -2 * far * near / (far - near)
    P[3, 2] = 1.0
    return P


class GLRenderer:
    """Render a :class:`SceneMesh` with moderngl on a standalone EGL context.

    Args:
        mesh: the scene geometry.
        backend: moderngl context backend ("egl" headless; None lets moderngl choose).

    Raises:
        RenderError: when no OpenGL 3.3 context can be created (use the CPU renderer instead).
    """

    name = "gl"

    def __init__(self, mesh: SceneMesh, backend: str | None = "egl") -> None:
        moderngl = require_package("moderngl", "render", "the GL renderer")
        try:
            kw = {"backend": backend} if backend else {}
            self.ctx = moderngl.create_standalone_context(require=330, **kw)
        except Exception as exc:  # noqa: BLE001 - any failure means "no GL here"
            raise RenderError(f"cannot create an OpenGL 3.3 {backend or ''} context ({exc}); "
                              "use --renderer cpu or install Mesa EGL (libegl1, libgl1-mesa-dri)") from exc
        src = _FS % {"NMAT": len(MATERIAL_PARAMS), "EMISSIVE": EMISSIVE, "PLASTER": PLASTER,
                     "DETAIL": float(np.float32(DETAIL_SCALE_M)), "POSTER": float(np.float32(POSTER_CELL_M)),
                     "PI_WEAVE": float(np.float32(np.pi / WEAVE_M))}
        self.prog = self.ctx.program(vertex_shader=_VS, fragment_shader=src)
        mats = np.zeros((len(MATERIAL_PARAMS), 4), np.float32)
        mats[:] = MATERIAL_PARAMS[:, :4]
        self.prog["u_mat"].write(mats.tobytes())
        self.prog["u_mat2"].write(np.ascontiguousarray(MATERIAL_PARAMS[:, 4:6], np.float32).tobytes())
        self.prog["u_l1"].value = tuple(float(v) for v in LIGHT1)
        self.prog["u_l2"].value = tuple(float(v) for v in LIGHT2)
        vbo = self.ctx.buffer(mesh.interleaved().tobytes())
        ibo = self.ctx.buffer(mesh.triangles.astype(np.uint32).tobytes())
        self.vao = self.ctx.vertex_array(
            self.prog, [(vbo, "3f 3f 3f 1f 1f", "in_pos", "in_nrm", "in_col", "in_mat", "in_id")], ibo)
        self._fbo = None
        self._size: tuple[int, int] | None = None
        self.mesh = mesh

    def _framebuffer(self, W: int, H: int):
        if self._size != (W, H):
            if self._fbo is not None:
                self._fbo.release()
                for a in self._attachments:
                    a.release()
            self._attachments = [self.ctx.renderbuffer((W, H), 4, dtype="f1"),
                                 self.ctx.renderbuffer((W, H), 1, dtype="f4"),
                                 self.ctx.renderbuffer((W, H), 1, dtype="i4")]
            depth = self.ctx.depth_renderbuffer((W, H))
            self._attachments.append(depth)
            self._fbo = self.ctx.framebuffer(color_attachments=self._attachments[:3], depth_attachment=depth)
            self._size = (W, H)
        return self._fbo

    def render(self, K: Intrinsics, world_from_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Render one view.

        Returns:
            rgb (H, W, 3) uint8, depth_m (H, W) float32 (0 = no surface), instance (H, W) int32.
        """
        T = check_pose(world_from_camera, "world_from_camera")
        W, H = K.width, K.height
        fbo = self._framebuffer(W, H)
        fbo.use()
        fbo.viewport = (0, 0, W, H)
        self.ctx.disable(self.ctx.CULL_FACE)  # noqa: B018 - moderngl flag attribute
        self.ctx.enable(self.ctx.DEPTH_TEST)  # noqa: B018
        fbo.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self.prog["u_view"].write(invert(T).T.astype("f4").tobytes())
        self.prog["u_proj"].write(projection_from_intrinsics(K).T.astype("f4").tobytes())
        self.vao.render()
        rgb = np.frombuffer(fbo.read(components=3, attachment=0), np.uint8).reshape(H, W, 3)
        depth = np.frombuffer(fbo.read(components=1, attachment=1, dtype="f4"), np.float32).reshape(H, W)
        inst = np.frombuffer(fbo.read(components=1, attachment=2, dtype="i4"), np.int32).reshape(H, W)
        return rgb.copy(), depth.copy(), inst.copy()

    def close(self) -> None:
        """Release the GL context."""
        self.ctx.release()
