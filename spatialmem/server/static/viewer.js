// spatialmem viewer: 3D points, labelled object boxes and the camera track of a memory or a live session,
// with the object list, keyframes, top-down map, a program console and a question box.
// World frame: z up, metres. Served by `spatialmem serve`; three.js is vendored under /static/vendor.
import * as THREE from 'three';
import { OrbitControls } from '/static/vendor/OrbitControls.js';

const params = new URLSearchParams(location.search);
const token = params.get('access_token');
const $ = (id) => document.getElementById(id);
const state = { base: null, label: '', scene: null, selected: null, ready: false, reloadTimer: null, ws: null };
window.__viewer = state;

function withToken(url) {
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(token);
}
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const body = (res.headers.get('content-type') || '').includes('json') ? await res.json() : await res.text();
  return { ok: res.ok, status: res.status, body };
}
const post = (path, data) => api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                          body: JSON.stringify(data) });

// ---------------------------------------------------------------- three.js scene
const canvas = $('canvas');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: true });
renderer.setPixelRatio(1);
renderer.setClearColor(0x1d1f24);
const scene3 = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(60, 1, 0.05, 200);
camera.up.set(0, 0, 1);
const controls = new OrbitControls(camera, canvas);
const groups = { points: new THREE.Group(), boxes: new THREE.Group(), labels: new THREE.Group(),
                 track: new THREE.Group(), room: new THREE.Group() };
Object.values(groups).forEach((g) => scene3.add(g));

function srgb(rgb) { return new THREE.Color().setRGB(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, THREE.SRGBColorSpace); }
function clear(group) {
  for (const c of [...group.children]) {
    group.remove(c);
    c.geometry && c.geometry.dispose();
    if (c.material) { c.material.map && c.material.map.dispose(); c.material.dispose(); }
  }
}
// the 12 edges of a box over its 8 corners (corner index bits = the signs of the three box axes)
const EDGES = [];
for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) if ([1, 2, 4].includes(i ^ j)) EDGES.push(i, j);

function labelSprite(text, rgb) {
  const c = document.createElement('canvas');
  const ctx = c.getContext('2d');
  ctx.font = '28px sans-serif';
  c.width = Math.ceil(ctx.measureText(text).width) + 12; c.height = 36;
  ctx.font = '28px sans-serif';
  ctx.fillStyle = 'rgba(0,0,0,0.55)'; ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`; ctx.filter = 'brightness(1.6)';
  ctx.fillText(text, 6, 27);
  const tex = new THREE.CanvasTexture(c);
  tex.colorSpace = THREE.SRGBColorSpace;
  const sp = new THREE.Sprite(new THREE.SpriteMaterial({ map: tex, depthTest: false, transparent: true }));
  sp.scale.set(0.006 * c.width, 0.006 * c.height, 1);
  sp.renderOrder = 10;
  return sp;
}

function buildScene(data, keepView) {
  Object.values(groups).forEach(clear);
  let pos = data.points.positions, col = data.points.colors;
  const ceiling = data.room && data.room.ceiling_z;
  if (ceiling && !$('show-ceiling').checked) {  // points near the ceiling hide the room when seen from above
    const keepP = [], keepC = [];
    for (let i = 0; i < pos.length; i += 3) {
      if (pos[i + 2] < ceiling - 0.2) { keepP.push(pos[i], pos[i + 1], pos[i + 2]); keepC.push(col[i], col[i + 1], col[i + 2]); }
    }
    pos = keepP; col = keepC;
  }
  if (pos.length) {
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.Float32BufferAttribute(pos, 3));
    g.setAttribute('color', new THREE.Uint8BufferAttribute(col, 3, true));
    groups.points.add(new THREE.Points(g, new THREE.PointsMaterial({ size: 2, sizeAttenuation: false,
                                                                       vertexColors: true })));
  }
  for (const o of data.objects) {
    const pos = [];
    for (const k of EDGES) pos.push(...o.corners[k]);
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.Float32BufferAttribute(pos, 3));
    const lines = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color: srgb(o.color) }));
    lines.userData.id = o.id;
    lines.renderOrder = 5;
    groups.boxes.add(lines);
    const sp = labelSprite(`${o.category} #${o.id}`, o.color);
    sp.position.set(o.center[0], o.center[1], o.center[2] + o.size[2] / 2 + 0.12);
    groups.labels.add(sp);
  }
  if (data.cameras.length > 1) {
    const g = new THREE.BufferGeometry().setFromPoints(data.cameras.map((c) => new THREE.Vector3(...c.position)));
    groups.track.add(new THREE.Line(g, new THREE.LineBasicMaterial({ color: 0xff4040 })));
    const last = data.cameras[data.cameras.length - 1];
    const cone = new THREE.Mesh(new THREE.ConeGeometry(0.08, 0.2, 12), new THREE.MeshBasicMaterial({ color: 0xff4040 }));
    cone.position.set(...last.position);
    cone.quaternion.setFromUnitVectors(new THREE.Vector3(0, 1, 0), new THREE.Vector3(...last.forward).normalize());
    groups.track.add(cone);
  }
  if (data.room && data.room.polygon.length > 2) {
    const pts = data.room.polygon.map(([x, y]) => new THREE.Vector3(x, y, data.room.floor_z));
    groups.room.add(new THREE.LineLoop(new THREE.BufferGeometry().setFromPoints(pts),
                                        new THREE.LineBasicMaterial({ color: 0x888888 })));
  }
  if (!keepView) frameAll(data);
  applyToggles();
}

function bounds(data) {
  const b = new THREE.Box3();
  for (const o of data.objects) for (const c of o.corners) b.expandByPoint(new THREE.Vector3(...c));
  if (data.room) for (const [x, y] of data.room.polygon) b.expandByPoint(new THREE.Vector3(x, y, data.room.floor_z));
  if (b.isEmpty()) { const q = data.points.positions; for (let i = 0; i < q.length; i += 3) b.expandByPoint(new THREE.Vector3(q[i], q[i + 1], q[i + 2])); }
  if (b.isEmpty()) b.set(new THREE.Vector3(-2, -2, 0), new THREE.Vector3(2, 2, 2));
  return b;
}
function frameAll(data) {
  const b = bounds(data);
  const c = b.getCenter(new THREE.Vector3());
  const r = Math.max(b.getSize(new THREE.Vector3()).length() / 2, 1);
  controls.target.copy(c);
  camera.position.set(c.x - 0.6 * r, c.y - 0.95 * r, c.z + 1.0 * r);
  camera.near = r / 100; camera.far = r * 20; camera.updateProjectionMatrix();
  controls.update();
}
function focusObject(o) {
  controls.target.set(...o.center);
  const d = Math.max(1.5, 2.5 * Math.max(...o.size));
  camera.position.set(o.center[0] - d, o.center[1] - d, o.center[2] + d);
  controls.update();
}
function applyToggles() {
  groups.boxes.visible = groups.labels.visible = $('show-boxes').checked;
  groups.points.visible = $('show-points').checked;
  groups.track.visible = $('show-track').checked;
}
['show-boxes', 'show-points', 'show-track'].forEach((id) => $(id).addEventListener('change', applyToggles));
$('show-ceiling').addEventListener('change', () => state.scene && buildScene(state.scene, true));

function resize() {
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w || canvas.height !== h) {
    renderer.setSize(w, h, false);
    camera.aspect = w / Math.max(h, 1); camera.updateProjectionMatrix();
  }
}
function loop() {
  resize();
  controls.update();
  renderer.render(scene3, camera);
  if (state.scene && !state.ready) { state.ready = true; document.body.dataset.ready = '1'; }
  requestAnimationFrame(loop);
}

// ---------------------------------------------------------------- side panels
function renderObjects() {
  const q = $('search').value.trim().toLowerCase();
  const ul = $('objects');
  ul.innerHTML = '';
  for (const o of (state.scene ? state.scene.objects : [])) {
    const text = `${o.category} #${o.id}`;
    if (q && !text.toLowerCase().includes(q.replace(/^#/, '#'))) continue;
    const li = document.createElement('li');
    li.dataset.id = o.id;
    li.innerHTML = `<span class="sw" style="background:rgb(${o.color.join(',')})"></span><span class="name"></span>`;
    li.querySelector('.name').textContent = text;
    if (state.selected === o.id) li.classList.add('sel');
    li.onclick = () => { state.selected = o.id; focusObject(o); renderObjects(); showPicked(o); };
    ul.appendChild(li);
  }
}
$('search').addEventListener('input', renderObjects);
function showPicked(o) {
  $('picked').textContent = `${o.category} #${o.id}: centre ${o.center.map((v) => v.toFixed(2)).join(', ')} m, ` +
    `size ${o.size.map((v) => v.toFixed(2)).join(' x ')} m`;
}
function renderImages() {
  const stamp = state.scene.summary.n_keyframes + '-' + (state.scene.cameras.length);
  $('topdown').src = withToken(`${state.base}/topdown.png?width=400&v=${stamp}`);
  const div = $('keyframes');
  div.innerHTML = '';
  for (const k of state.scene.keyframes) {
    const img = document.createElement('img');
    img.loading = 'lazy';
    img.title = `frame ${k.frame_index} (${k.timestamp_s.toFixed(1)} s)`;
    img.src = withToken(`${state.base}/keyframes/${k.frame_index}.png?width=160`);
    img.onclick = () => window.open(withToken(`${state.base}/keyframes/${k.frame_index}.png`), '_blank');
    div.appendChild(img);
  }
}

async function loadScene(keepView) {
  const r = await api(`${state.base}/scene?max_points=60000`);
  if (!r.ok) { $('status').textContent = `error: ${r.body.detail || r.status}`; return; }
  state.scene = r.body;
  buildScene(r.body, keepView);
  renderObjects();
  renderImages();
  const s = r.body.summary;
  $('status').textContent = `${state.label}: ${r.body.objects.length} objects, ${s.n_keyframes} keyframes, ` +
    `${r.body.points.total} points` + (s.room_area_m2 ? `, room ${s.room_area_m2} m²` : '');
}

// ---------------------------------------------------------------- console and questions
function showDiagnostics(out, body) {
  out.className = 'error';
  const diags = body.diagnostics || [];
  out.textContent = `${body.title}: ${body.detail}` + (diags.length ? '\n\n' + diags.map((d) => d.rendered).join('\n\n') : '');
}
$('run').onclick = async () => {
  const out = $('run-out');
  out.className = ''; out.textContent = 'running…';
  const r = await post(`${state.base}/run`, { program: $('program').value });
  if (!r.ok) return showDiagnostics(out, r.body);
  out.textContent = `answer: ${r.body.answer_text}   (${r.body.value_type}, ${r.body.steps} steps, ` +
    `${(r.body.elapsed_s * 1000).toFixed(1)} ms)\n` + r.body.trace.join('\n');
};
$('ask').onclick = async () => {
  const out = $('ask-out');
  out.className = ''; out.textContent = 'asking…';
  const r = await post(`${state.base}/ask`, { question: $('question').value, planner: $('planner').value });
  if (!r.ok) return showDiagnostics(out, r.body);
  const rec = r.body;
  if (!rec.ok) { out.className = 'error'; out.textContent = `${rec.error_kind}: ${rec.error}\n${rec.program}`; return; }
  out.textContent = `answer: ${rec.answer}   (planner ${rec.planner})\n${rec.program}`;
};
$('program').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('run').click(); });
$('question').addEventListener('keydown', (e) => { if (e.key === 'Enter') $('ask').click(); });

// ---------------------------------------------------------------- memory / live session selection
function liveUpdates(sid) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(withToken(`${proto}://${location.host}/api/sessions/${sid}/events`));
  state.ws = ws;
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.type === 'progress' || ev.type === 'hello') {
      $('status').textContent = `live session ${sid}: ${ev.n_frames} frames, ${ev.n_instances} instances`;
      if (ev.n_frames && !state.reloadTimer) {  // at most one scene reload per second while frames stream in
        state.reloadTimer = setTimeout(() => { state.reloadTimer = null; loadScene(true); }, 1000);
      }
    } else if (ev.type === 'closed') {
      $('status').textContent += ' (closed)';
    }
  };
}
async function select(value) {
  if (state.ws) { state.ws.close(); state.ws = null; }
  const [kind, name] = value.split(':');
  state.base = kind === 'session' ? `/api/sessions/${name}/memory` : `/api/memories/${encodeURIComponent(name)}`;
  state.label = kind === 'session' ? `session ${name}` : name;
  state.ready = false; delete document.body.dataset.ready;
  if (kind === 'session') liveUpdates(name);
  await loadScene(false);
}
async function init() {
  const [mems, sess] = await Promise.all([api('/api/memories'), api('/api/sessions')]);
  const sel = $('source');
  const opts = [];
  if (mems.ok) for (const m of mems.body) opts.push([`memory:${m.name}`, m.name]);
  if (sess.ok) for (const s of sess.body) opts.push([`session:${s.session}`, `live: ${s.name}`]);
  for (const [v, t] of opts) { const o = document.createElement('option'); o.value = v; o.textContent = t; sel.appendChild(o); }
  sel.onchange = () => select(sel.value);
  const want = params.get('session') ? `session:${params.get('session')}` : params.get('memory') ? `memory:${params.get('memory')}` : null;
  if (want && !opts.some(([v]) => v === want)) {
    const o = document.createElement('option'); o.value = want; o.textContent = want; sel.appendChild(o);
  }
  const first = want || (opts[0] && opts[0][0]);
  if (!first) { $('status').textContent = 'no memories in the served folders'; return; }
  sel.value = first;
  await select(first);
}
requestAnimationFrame(loop);
init();
