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

from .conftest import make_app

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
def server_url(served):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(served), host="127.0.0.1", port=port, log_level="warning"))
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


def test_viewer_in_headless_chromium(server_url, served, tmp_path):
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
        finally:
            browser.close()
    assert not errors, errors
    on, off = _box_pixels(with_boxes, colors), _box_pixels(without, colors)
    print(f"box pixels: {on} with boxes, {off} without")
    assert on > 150 and on > 4 * max(off, 1), (on, off)
