"""The viewer in a real headless Chromium (Debian's ``chromium``, driven by playwright with executable_path):
the scene loads, the object list matches the memory, the console runs a program and shows diagnostics, and the
object boxes are really drawn (pixels of the box colours appear with boxes on, and go away with boxes off)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from spatialmem.memory.store import load_memory
from spatialmem.memory.topdown import category_color

from .conftest import frame_parts, make_app, scene_rows, session_body

CHROMIUM = os.environ.get("SPATIALMEM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def _browser_or_skip():
    """playwright's sync API; in CI a missing browser or playwright is a failure, elsewhere a skip with the reason."""
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright is not installed (pip install playwright)")
        sync_playwright = None
    if missing:
        if os.environ.get("CI"):
            pytest.fail("browser test cannot run in CI: " + "; ".join(missing))
        pytest.skip("; ".join(missing))
    return sync_playwright


@pytest.fixture()
def server_url(served, tmp_path):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(served, save_root=tmp_path)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _box_pixels(png: bytes, colors: list[tuple[int, int, int]]) -> int:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)
    hit = np.zeros(img.shape[:2], bool)
    for c in colors:
        hit |= (np.abs(img - np.array(c, np.int16)) <= 3).all(axis=-1)
    return int(hit.sum())


def test_viewer_in_headless_chromium(server_url, served, tiny_scene, tmp_path):
    sync_playwright = _browser_or_skip()
    memory = load_memory(served / "tiny")
    expected = [f"{i.category} #{i.id}" for i in memory.instances]
    colors = sorted({category_color(i.category) for i in memory.instances})
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server_url}/?memory=tiny")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#objects li .name").all_inner_texts() == expected
            assert "WebGL" not in page.inner_text("#status")
            # search filters the list
            page.fill("#search", memory.instances[0].category)
            shown = page.locator("#objects li .name").all_inner_texts()
            assert shown == [e for e in expected if memory.instances[0].category in e]
            page.fill("#search", "")
            # the console: an answer, then a rejected program with its caret
            page.fill("#program", "answer(count(all_objects()))")
            page.click("#run")
            page.wait_for_function("document.getElementById('run-out').textContent.startsWith('answer')")
            assert page.inner_text("#run-out").startswith(f"answer: {len(memory.instances)}")
            page.fill("#program", 'answer(count(objects("lamb")))')
            page.click("#run")
            page.wait_for_function("document.getElementById('run-out').textContent.includes('E240')")
            out = page.inner_text("#run-out")
            assert "^^^^^^" in out and 'objects("lamb")' in out
            # boxes drawn: box-coloured pixels with boxes on, (almost) none with boxes off
            page.wait_for_timeout(300)
            canvas = page.locator("#canvas")
            with_boxes = canvas.screenshot()
            (tmp_path / "viewer.png").write_bytes(page.screenshot())
            page.uncheck("#show-boxes")
            page.wait_for_timeout(300)
            without = canvas.screenshot()
            live_counts, live_status = _follow_live_session(page, server_url, tiny_scene)
        finally:
            browser.close()
    assert not errors, errors
    assert live_counts[0] < live_counts[1]  # objects appeared in the viewer while the session streamed
    assert "session" in live_status  # the status line follows the session (its progress or its reloaded scene)
    on, off = _box_pixels(with_boxes, colors), _box_pixels(without, colors)
    print(f"box pixels: {on} with boxes, {off} without")
    assert on > 150 and on > 4 * max(off, 1), (on, off)


def _follow_live_session(page, server_url: str, scene) -> tuple[tuple[int, int], str]:
    """Open the viewer on a live session, stream more frames, and wait until the object list is the session's."""
    import httpx

    rows = scene_rows(scene)
    with httpx.Client(base_url=server_url, timeout=60) as h:
        sid = h.post("/api/sessions", json=session_body(scene)).json()["session"]

        def send(part):
            for row in part:
                files, data = frame_parts(scene, row)
                assert h.post(f"/api/sessions/{sid}/frames", files=files, data=data).status_code == 200

        send(rows[:8])
        page.goto(f"{server_url}/?session={sid}")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        before = page.locator("#objects li").count()
        send(rows[8:])
        want = [f"{o['category']} #{o['id']}" for o in h.get(f"/api/sessions/{sid}/memory/objects").json()]
        page.wait_for_function(f"document.querySelectorAll('#objects li').length === {len(want)}", timeout=30_000)
        assert page.locator("#objects li .name").all_inner_texts() == want
        status = page.inner_text("#status")
        h.delete(f"/api/sessions/{sid}")
    return (before, len(want)), status
