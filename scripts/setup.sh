#!/usr/bin/env bash
# Create the project's virtual environment with every extra, and make sure a headless OpenGL
# (EGL, Mesa llvmpipe) is present for the fast renderer. Idempotent.
set -euo pipefail
PY=${PY:-python3}
VENV=${VENV:-.venv}

if ! ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1'; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Mesa EGL (libegl1, libgl1-mesa-dri) for headless rendering"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1-mesa-dri >/dev/null
  else
    echo "[setup] note: libEGL.so.1 not found; rendering falls back to the slower CPU renderer." >&2
    echo "[setup]       install it with: sudo apt-get install libegl1 libgl1-mesa-dri" >&2
  fi
fi

# Headless Chromium for the viewer's browser test (tests/server/test_server_browser.py); playwright drives it.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "[setup] installing chromium (headless browser for the viewer test)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] note: chromium not found; the viewer's browser test is skipped outside CI." >&2
    echo "[setup]       install it with: sudo apt-get install chromium" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch: the CPU wheel, pinned here so that the extras' torch>=2.1 is satisfied by it (no CUDA download)
"$VENV/bin/python" -m pip install -q torch==2.13.0
"$VENV/bin/python" -m pip install -q -e ".[all,dev]"
echo "[setup] ready: $VENV/bin/spatialmem"
