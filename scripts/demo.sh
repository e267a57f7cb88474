#!/usr/bin/env bash
# The main job on the built-in default: synthesize a scene, build its memory, answer its questions,
# print the score table and save the top-down map.
#   usage: bash scripts/demo.sh OUT SEED FRAMES        (make demo OUT=runs/demo SEED=3 FRAMES=300)
# Expects `spatialmem` on PATH (make demo puts the venv's bin first).
set -euo pipefail
OUT=${1:-runs/demo}
SEED=${2:-3}
FRAMES=${3:-300}
if ! command -v spatialmem >/dev/null; then
  echo "demo: 'spatialmem' is not on PATH; run 'make demo' (or 'make setup' and add .venv/bin to PATH)" >&2
  exit 2
fi
SCENE=$(printf 'scene_%05d' "$SEED")
mkdir -p "$OUT"

echo "== 1/4 synthesize $SCENE ($FRAMES frames) -> $OUT/scenes/$SCENE"
spatialmem synth --seed "$SEED" --frames "$FRAMES" --out "$OUT/scenes" --overwrite

echo "== 2/4 build its memory -> $OUT/memories/$SCENE"
spatialmem ingest "$OUT/scenes/$SCENE" --out "$OUT/memories/$SCENE" --overwrite

echo "== 3/4 answer its questions -> $OUT/results"
rm -f "$OUT/results/predictions.jsonl"   # a fresh score for a freshly built scene (eval resumes otherwise)
spatialmem eval "$OUT/scenes/$SCENE/questions.jsonl" --memories "$OUT/memories" --out "$OUT/results"

echo "== 4/4 top-down map -> $OUT/topdown.png"
spatialmem render "$OUT/memories/$SCENE" --topdown "$OUT/topdown.png"

echo
echo "done: scores in $OUT/results/results.md (chart $OUT/results/scores.png), map in $OUT/topdown.png"
