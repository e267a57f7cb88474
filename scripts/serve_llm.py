#!/usr/bin/env python3
"""Serve a GGUF model with llama.cpp's OpenAI-compatible HTTP server (the ``xllamacpp`` wheel) and block.

    pip install xllamacpp        # prebuilt CPU wheels of llama.cpp's server
    python scripts/serve_llm.py --model models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \\
        --alias qwen2.5-coder-1.5b-instruct --threads 2 --port 8080

Endpoints as llama-server's: ``GET /v1/models``, ``/props``, ``POST /v1/chat/completions`` (with its
``grammar`` field), ``/tokenize``. The prompt cache is on, so the shared language reference at the head of
every planner prompt is processed once. Stop with Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a .gguf file")
    ap.add_argument("--alias", default=None, help="model id reported by /v1/models (default: the file name)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--ctx", type=int, default=8192, help="context size in tokens")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.model):
        print(f"serve_llm: no such model file: {args.model} (see scripts/get_llm_models.sh)", file=sys.stderr)
        return 2
    try:
        import xllamacpp as xlc
    except ImportError:
        print("serve_llm: needs llama.cpp's server for Python: pip install xllamacpp", file=sys.stderr)
        return 2
    p = xlc.CommonParams()
    p.model.path = args.model
    p.hostnames = [args.host]
    p.port = args.port
    p.n_ctx = args.ctx
    p.n_parallel = 1
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.n_gpu_layers = 0
    p.fit_params = False  # keep the context size asked for
    p.use_jinja = True  # the GGUF's own chat template
    p.ui = False
    p.model_alias = {args.alias or os.path.basename(args.model)}
    server = xlc.Server(p)
    print(f"serve_llm: {args.model} as {sorted(p.model_alias)} on http://{args.host}:{args.port}/v1 "
          f"({args.threads} threads, context {args.ctx})", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        time.sleep(0.5)
    del server
    os._exit(0)  # the native server thread cannot be joined from Python


if __name__ == "__main__":
    sys.exit(main())
