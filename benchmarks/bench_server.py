"""Throughput and latency of ``spatialmem serve``: DSL runs and PNG renders under N concurrent clients, and the
frames/s a live session sustains on 640x480 given-perception input (targets: >= 300 DSL requests/s with
p99 <= 50 ms; a live session keeping up with 15 frames/s).

Usage: ``python benchmarks/bench_server.py [--clients 8] [--requests 2000] [--renders 200] [--frames 150]
[--seed 3] [--work DIR]``. It synthesizes a 640x480 scene (``--frames`` frames), ingests it into a memory,
starts ``spatialmem serve`` in a subprocess on a free port, and then, each phase stopping after a bounded
number of requests:

1. DSL: ``--clients`` threads with keep-alive connections post ``--requests`` programs in total (typical
   VSI-Bench programs over the memory) and the script prints requests/s, p50 / p99 latency;
2. PNG: the same for ``--renders`` top-down maps (400 px) and views (320x240);
3. live session: one client streams the scene's frames (JPEG rgb + 16-bit PNG depth and instance masks, pose,
   labels), back to back, and the script prints frames/s end to end and the server's builder time per frame;
   then it streams them again paced at 15 frames/s and prints how far the last answer lagged behind.

The server's CPU seconds (from /proc) are printed beside each phase: on a shared, loaded machine wall-clock
figures understate what the server could do alone.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROGRAMS = [
    "answer(count(all_objects()))",
    "answer(room_area())",
    'answer(count(objects("{a}")))',
    'answer(distance(first(objects("{a}")), first(objects("{b}"))))',
    'answer(nearest(first(objects("{a}")), among=["{b}", "{c}"]).category)',
    'v = stand_at(first(objects("{a}")), facing=first(objects("{b}")))\n'
    'answer(direction(v, first(objects("{c}")), scheme="left_right"))',
]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def _hammer(port: int, requests: list[tuple[str, str, bytes | None]], clients: int) -> tuple[float, list[float]]:
    """Send ``requests`` (method, path, json body) from ``clients`` keep-alive threads; (wall s, latencies s)."""
    lat: list[float] = []
    lock = threading.Lock()
    jobs = list(requests)
    errors: list[str] = []

    def worker(share: list) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for method, path, body in share:
            t0 = time.perf_counter()
            con.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            r = con.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            if r.status != 200:
                errors.append(f"{path}: {r.status}")
        con.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(jobs[k::clients],)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return wall, lat


def _report(name: str, wall: float, lat: list[float], cpu: float) -> None:
    n = len(lat)
    print(f"{name:<14} {n:>6} requests  {n / wall:8.1f} req/s  p50 {1000 * statistics.median(lat):7.2f} ms  "
          f"p99 {1000 * _pct(lat, 99):7.2f} ms  max {1000 * max(lat):7.2f} ms  server CPU {cpu:6.2f} s "
          f"({1000 * cpu / n:.2f} ms/request)")


def _multipart(fields: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, filename, data in fields:
        out += f"--{boundary}\r\n".encode()
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"Content-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _frame_bodies(scene: Path) -> list[tuple[bytes, str, float]]:
    labels = {o["id"]: o["category"] for o in json.loads((scene / "scene.json").read_text())["objects"]}
    out = []
    for line in (scene / "frames.jsonl").read_text().splitlines():
        row = json.loads(line)
        meta = {"index": row["index"], "timestamp_s": row["timestamp_s"],
                "world_from_camera": row["world_from_camera"], "labels": labels}
        body, ctype = _multipart([("rgb", "rgb.jpg", (scene / row["rgb"]).read_bytes()),
                                  ("depth", "depth.png", (scene / row["depth"]).read_bytes()),
                                  ("instances", "instance.png", (scene / row["instance"]).read_bytes()),
                                  ("meta", None, json.dumps(meta).encode())])
        out.append((body, ctype, row["timestamp_s"]))
    return out


def _stream(port: int, scene: Path, bodies, paced_fps: float | None) -> tuple[float, list[float], dict]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    intr = json.loads((scene / "intrinsics.json").read_text())
    con.request("POST", "/api/sessions", body=json.dumps({"intrinsics": intr}),
                headers={"Content-Type": "application/json"})
    sid = json.loads(con.getresponse().read())["session"]
    lat, lags = [], []
    t_start = time.perf_counter()
    for k, (body, ctype, _) in enumerate(bodies):
        if paced_fps:
            due = t_start + k / paced_fps
            time.sleep(max(0.0, due - time.perf_counter()))
        t0 = time.perf_counter()
        con.request("POST", f"/api/sessions/{sid}/frames", body=body, headers={"Content-Type": ctype})
        r = con.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"frame {k}: HTTP {r.status}")
        t1 = time.perf_counter()
        lat.append(t1 - t0)
        if paced_fps:
            lags.append(t1 - (t_start + k / paced_fps))
    wall = time.perf_counter() - t_start
    con.request("GET", f"/api/sessions/{sid}")
    status = json.loads(con.getresponse().read())
    con.request("DELETE", f"/api/sessions/{sid}")
    con.getresponse().read()
    con.close()
    return wall, lags or lat, status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=2000, help="DSL requests in total")
    ap.add_argument("--renders", type=int, default=200, help="PNG requests in total")
    ap.add_argument("--frames", type=int, default=150, help="frames of the 640x480 scene")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None, help="folder for the scene and memory (default: temp)")
    args = ap.parse_args()

    from spatialmem.memory.builder import build_memory
    from spatialmem.memory.store import load_memory, save_memory
    from spatialmem.sources import open_source
    from spatialmem.synth.writer import SynthConfig, write_scene

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-server-"))
    scene = work / "scenes" / f"scene_{args.seed:05d}"
    if not (scene / "frames.jsonl").exists():
        t = time.perf_counter()
        scene = write_scene(work / "scenes", args.seed, SynthConfig(num_frames=args.frames, width=640, height=480),
                            overwrite=True)
        print(f"synthesized {scene} ({args.frames} frames, 640x480) in {time.perf_counter() - t:.1f} s")
    mems = work / "memories"
    if not (mems / "bench").exists():
        save_memory(build_memory(open_source(scene)), mems / "bench")
    memory = load_memory(mems / "bench")
    cats = sorted(memory.categories())
    a, b, c = (cats * 3)[:3]
    programs = [p.format(a=a, b=b, c=c) for p in PROGRAMS]
    print(f"memory: {len(memory.instances)} objects, {len(memory.points_world)} points; {args.clients} clients; "
          f"{os.cpu_count()} CPUs (shared: other jobs may be running)")

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "spatialmem.cli", "serve", "--memories", str(mems),
                               "--port", str(port), "--log-level", "warning", "--max-sessions", "2",
                               "--save-dir", str(work / "saved")], cwd=ROOT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        warm = [("POST", "/api/memories/bench/run", json.dumps({"program": p}).encode()) for p in programs]
        _hammer(port, warm * 5, 2)  # load the memory, warm the caches

        dsl = [("POST", "/api/memories/bench/run", json.dumps({"program": programs[k % len(programs)]}).encode())
               for k in range(args.requests)]
        cpu0 = _cpu_s(server.pid)
        wall, lat = _hammer(port, dsl, args.clients)
        _report("DSL run", wall, lat, _cpu_s(server.pid) - cpu0)

        cx, cy = (float(v) for v in memory.instances[0].box.center[:2])
        renders = [("GET", "/api/memories/bench/topdown.png?width=400", None) if k % 2 else
                   ("GET", f"/api/memories/bench/view.png?x={cx - 1.5}&y={cy}&facing_x=1&facing_y=0"
                           "&width=320&height=240", None) for k in range(args.renders)]
        cpu0 = _cpu_s(server.pid)
        wall, lat = _hammer(port, renders, args.clients)
        _report("PNG render", wall, lat, _cpu_s(server.pid) - cpu0)

        bodies = _frame_bodies(scene)
        cpu0 = _cpu_s(server.pid)
        wall, lat, status = _stream(port, scene, bodies, None)
        cpu = _cpu_s(server.pid) - cpu0
        n = len(bodies)
        print(f"live session   {n:>6} frames    {n / wall:8.1f} frames/s back to back (640x480, given perception); "
              f"per frame p50 {1000 * statistics.median(lat):.1f} ms, p99 {1000 * _pct(lat, 99):.1f} ms; builder "
              f"{1000 * status['busy_s'] / n:.1f} ms/frame; server CPU {1000 * cpu / n:.1f} ms/frame")
        wall, lags, _ = _stream(port, scene, bodies, 15.0)
        print(f"live at 15 fps {n:>6} frames    done {wall:.1f} s for {n / 15:.1f} s of video; answer lag behind "
              f"the frame's due time p50 {1000 * statistics.median(lags):.0f} ms, max {1000 * max(lags):.0f} ms "
              f"({'keeps up' if lags[-1] < 0.5 else 'falls behind'})")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
