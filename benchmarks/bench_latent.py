"""Latent memory on the toy task, on CPU (docs/latent.md): (a) dual memory vs window vs full context,
(b) VisMem after Stage I and Stage II.

    .venv/bin/python benchmarks/bench_latent.py              # full run (19.5 min on 2 heavily shared cores)
    .venv/bin/python benchmarks/bench_latent.py --quick      # smoke run (small, figures meaningless)

(a) Streams of 64 / 256 / 1,024 frames (2 fps) from synthetic rooms, object-level tokens
    (category embedding + 3D box). A reader (2 gated cross-attention reads + a classifier) is
    trained on 128-frame training streams for each memory variant and tested on unseen rooms:
    ``dual`` (working window W=8 + K=32 episodic slots), ``window`` (the working window only),
    ``full`` (every token of the stream). Also: answer-prior baseline, time per frame (write + read)
    and bytes of stream state per stream length.
(b) A 2-layer Llama (H=64) trained here (stage 0) reads object tokens; Stage I trains the query
    builders and LoRA formers (base frozen), Stage II the invocation head (GRPO). Accuracy without
    memory, with the needed memory forced, and with the model's own invocations; invocation rates.

Figures are printed, written to docs/img/latent_results.json and plotted to docs/img/latent_*.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spatialmem.latent.config import Stage2Config, StageConfig, TrainConfig  # noqa: E402
from spatialmem.latent.data import episode_from_scene, save_episode  # noqa: E402
from spatialmem.latent.dual_memory import DualMemoryConfig, GatedMemoryRead  # noqa: E402
from spatialmem.latent.toy import NUM_CLASSES, StreamEncoder  # noqa: E402
from spatialmem.synth.catalog import CATEGORIES  # noqa: E402

LONG_KINDS = ("count", "first", "closer")
VARIANTS = ("dual", "window", "full")


class Reader(nn.Module):
    """Question tokens read a memory (two gated reads) -> answer class logits."""

    def __init__(self, dim: int, heads: int = 4) -> None:
        super().__init__()
        self.kind = nn.Embedding(len(LONG_KINDS), dim)
        self.cat = nn.Embedding(len(CATEGORIES), dim)
        self.role = nn.Embedding(3, dim)
        self.reads = nn.ModuleList([GatedMemoryRead(dim, heads) for _ in range(2)])
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, NUM_CLASSES))

    def forward(self, kind, cats, cat_mask, work, work_mask, epi=None, epi_mask=None):
        q = self.kind(kind)[:, None]
        c = self.cat(cats.clamp(min=0)) + self.role.weight[None, :cats.shape[1]]
        x = torch.cat([q, c * cat_mask[..., None]], 1)
        for r in self.reads:
            x = r(x, work, work_mask, epi, epi_mask)
        return self.head(x[:, 0])


def _pad(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(1, max(len(s) for s in seqs))
    out = torch.zeros(len(seqs), n, seqs[0].shape[-1])
    mask = torch.zeros(len(seqs), n, dtype=torch.bool)
    for i, s in enumerate(seqs):
        out[i, :len(s)], mask[i, :len(s)] = s, True
    return out, mask


def reader_inputs(items, variant: str, W_T: int):
    kind = torch.tensor([LONG_KINDS.index(q.kind) for _, q in items])
    cats = torch.full((len(items), 3), -1)
    for i, (_, q) in enumerate(items):
        cats[i, :len(q.categories)] = torch.tensor(q.categories)
    y = torch.tensor([q.answer for _, q in items])
    if variant == "full":
        work, wmask = _pad([c.full for c, _ in items])
        return (kind, cats, (cats >= 0).float(), work, wmask), y
    mem = torch.stack([c.memory for c, _ in items])
    mm = torch.stack([c.memory_mask for c, _ in items])
    if variant == "window":
        return (kind, cats, (cats >= 0).float(), mem[:, :W_T], mm[:, :W_T]), y
    return (kind, cats, (cats >= 0).float(), mem[:, :W_T], mm[:, :W_T], mem[:, W_T:], mm[:, W_T:]), y


def train_reader(items, variant, W_T, dim, steps, seed) -> Reader:
    torch.manual_seed(seed)
    model = Reader(dim)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = [items[i] for i in rng.choice(len(items), size=min(64, len(items)), replace=False)]
        x, y = reader_inputs(batch, variant, W_T)
        loss = nn.functional.cross_entropy(model(*x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def reader_accuracy(model, items, variant, W_T) -> dict:
    out = {}
    for kind in LONG_KINDS:
        sel = [it for it in items if it[1].kind == kind]
        if sel:
            x, y = reader_inputs(sel, variant, W_T)
            out[kind] = float((model(*x).argmax(-1) == y).float().mean())
    x, y = reader_inputs(items, variant, W_T)
    out["all"] = float((model(*x).argmax(-1) == y).float().mean())
    return out


def prior_accuracy(train, test) -> float:
    best = {k: Counter(q.answer for _, q in train if q.kind == k).most_common(1)[0][0] for k in LONG_KINDS
            if any(q.kind == k for _, q in train)}
    return float(np.mean([best.get(q.kind, 0) == q.answer for _, q in test]))


def timing_and_bytes(stream: StreamEncoder, ep, lengths) -> dict:
    """Per variant and length: ms per frame (write + read of the frame's tokens) and state bytes."""
    tok, pts, mask = stream.frame_tokens(ep)
    m, c = stream.memory, stream.config
    read = GatedMemoryRead(c.dim, c.heads).eval()
    res = {v: {} for v in VARIANTS}
    for L in lengths:
        m.reset()
        full: list[torch.Tensor] = []
        t_d = t_w = t_f = 0.0
        timed = 0
        with torch.no_grad():
            for f in range(L):
                on = f >= L - 32  # time the last 32 frames of the stream
                t0 = time.perf_counter()
                m.step(tok[f], pts[f], mask[f])
                t1 = time.perf_counter()
                x = m.encode(tok[f], pts[f])
                # window only: the same ring-buffer write without consolidation, and one read
                ring = m.work[None].reshape(1, -1, c.dim)
                read(x[None], ring, m.work_mask.reshape(1, -1))
                t2 = time.perf_counter()
                full.append(x[mask[f]])
                allt = torch.cat(full)[None]
                read(x[None], allt, torch.ones(allt.shape[:2], dtype=torch.bool))
                t3 = time.perf_counter()
                if on:
                    t_d, t_w, t_f, timed = t_d + t1 - t0, t_w + t2 - t1, t_f + t3 - t2, timed + 1
        n_full = sum(len(x) for x in full)
        window_bytes = m.work.numel() * 4 + m.work_mask.numel() + m.work_time.numel() * 8
        res["dual"][L] = {"ms_per_frame": 1e3 * t_d / timed, "bytes": m.memory_bytes()}
        res["window"][L] = {"ms_per_frame": 1e3 * t_w / timed, "bytes": window_bytes}
        res["full"][L] = {"ms_per_frame": 1e3 * t_f / timed, "bytes": n_full * (c.dim * 4 + 8)}
    return res


def part_a(args, stream, work: Path) -> dict:
    t0 = time.time()
    W_T = stream.config.window * stream.config.max_tokens
    train = []
    for s in range(args.train_rooms):
        ep = episode_from_scene(s, args.train_frames, questions_per_kind=args.questions)
        save_episode(ep, work / "train" / f"episode_{s:05d}")
        ctx = stream.context(ep, with_full=True)
        train += [(ctx, q) for q in ep.questions if q.kind in LONG_KINDS]
    print(f"(a) {len(train)} training questions from {args.train_rooms} rooms x {args.train_frames} frames "
          f"[{time.time() - t0:.0f} s]", flush=True)
    readers = {v: train_reader(train, v, W_T, stream.config.dim, args.reader_steps, args.seed) for v in VARIANTS}
    print(f"(a) readers trained [{time.time() - t0:.0f} s]", flush=True)
    acc: dict = {v: {} for v in (*VARIANTS, "prior")}
    counts = {}
    timing_ep = None
    for L in args.lengths:
        test = []
        for s in range(args.test_rooms):
            ep = episode_from_scene(10000 + s, L, questions_per_kind=args.questions)
            if L == max(args.lengths) and timing_ep is None:
                timing_ep = ep
            if L == args.vismem_test_frames:
                save_episode(ep, work / "test" / f"episode_{10000 + s:05d}")
            ctx = stream.context(ep, with_full=True)
            test += [(ctx, q) for q in ep.questions if q.kind in LONG_KINDS]
        counts[L] = len(test)
        for v in VARIANTS:
            acc[v][L] = reader_accuracy(readers[v], test, v, W_T)
        acc["prior"][L] = {"all": prior_accuracy(train, test)}
        print(f"(a) {L:5d} frames, {len(test)} questions: " + ", ".join(
            f"{v} {acc[v][L]['all']:.3f}" for v in (*VARIANTS, "prior")) + f" [{time.time() - t0:.0f} s]", flush=True)
    timing = timing_and_bytes(stream, timing_ep, args.lengths)
    for L in args.lengths:
        print(f"(a) {L:5d} frames: ms/frame " + ", ".join(f"{v} {timing[v][L]['ms_per_frame']:.2f}" for v in VARIANTS)
              + "; bytes " + ", ".join(f"{v} {timing[v][L]['bytes']}" for v in VARIANTS), flush=True)
    return {"accuracy": acc, "questions": counts, "timing": timing, "seconds": time.time() - t0}


def write_episodes(args, work: Path) -> None:
    """The episodes part (a) writes for part (b): training rooms and the test rooms of part (b)'s length."""
    for s in range(args.train_rooms):
        save_episode(episode_from_scene(s, args.train_frames, questions_per_kind=args.questions),
                     work / "train" / f"episode_{s:05d}")
    for s in range(args.test_rooms):
        save_episode(episode_from_scene(10000 + s, args.vismem_test_frames, questions_per_kind=args.questions),
                     work / "test" / f"episode_{10000 + s:05d}")


def part_b(args, work: Path) -> dict:
    from spatialmem.latent.train import run_stage

    t0 = time.time()
    s = args.stage_steps
    cfg = TrainConfig(out=str(work / "run"), seed=args.seed, train_data=str(work / "train"),
                      test_data=str(work / "test"),
                      stage0=StageConfig(steps=s[0], batch_size=32, lr=3e-3, save_every=10 ** 6),
                      stage1=StageConfig(steps=s[1], batch_size=16, lr=1e-3, save_every=10 ** 6),
                      stage2=replace(Stage2Config(), steps=s[2], batch_size=32, lr=0.05, save_every=10 ** 6,
                                     questions=args.stage2_questions))
    out = {}
    for stage in (0, 1, 2):
        out[f"stage{stage}"] = run_stage(cfg, stage, resume=False)
        print(f"(b) stage {stage} done [{time.time() - t0:.0f} s]: "
              + json.dumps({k: v for k, v in out[f'stage{stage}'].items() if k != 'output'}), flush=True)
        out[f"stage{stage}"]["loss"] = [json.loads(x) for x in
                                        (work / "run" / f"stage{stage}" / "loss.jsonl").read_text().splitlines()]
    out["seconds"] = time.time() - t0
    return out


def plots(res: dict, img: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = res["a"]
    Ls = sorted(int(L) for L in a["accuracy"]["dual"])
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    for v in (*VARIANTS, "prior"):
        ax[0].plot(Ls, [a["accuracy"][v][L]["all"] for L in Ls], "o-" if v != "prior" else "k--", label=v)
    ax[0].set(xscale="log", xlabel="stream length (frames)", ylabel="accuracy (long-range questions)",
              title="answer accuracy")
    ax[0].legend()
    for v in VARIANTS:
        ax[1].plot(Ls, [a["timing"][v][L]["ms_per_frame"] for L in Ls], "o-", label=v)
        ax[2].plot(Ls, [a["timing"][v][L]["bytes"] for L in Ls], "o-", label=v)
    ax[1].set(xscale="log", xlabel="stream length (frames)", ylabel="ms per frame", title="time per frame")
    ax[2].set(xscale="log", yscale="log", xlabel="stream length (frames)", ylabel="bytes", title="stream state")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(img / "latent_dual_memory.png", dpi=110)
    plt.close(fig)

    b = res["b"]
    s1, s2 = b["stage1"], b["stage2"]
    kinds = sorted(s1["never"]["per_kind"])
    fig, ax = plt.subplots(1, 2, figsize=(12, 3.6))
    bars = [("no memory", s1["never"]), ("Stage I, needed memory forced", s1["needed"]),
            ("Stage II, model invokes", s2["auto"])]
    w = 0.8 / len(bars)
    for i, (name, r) in enumerate(bars):
        ax[0].bar(np.arange(len(kinds) + 1) + i * w, [r["per_kind"][k] for k in kinds] + [r["accuracy"]], w, label=name)
    ax[0].set_xticks(np.arange(len(kinds) + 1) + w, kinds + ["all"])
    ax[0].set(ylabel="accuracy", title="VisMem toy task (test rooms)")
    ax[0].legend(fontsize=8)
    needs = sorted(s2["auto"]["invocation_rate_by_needs"])
    for i, k in enumerate(("short", "long")):
        ax[1].bar(np.arange(len(needs)) + i * 0.4, [s2["auto"]["invocation_rate_by_needs"][n][k] for n in needs], 0.4,
                  label=f"invokes {k}")
    ax[1].set_xticks(np.arange(len(needs)) + 0.2, [f"needs {n}" for n in needs])
    ax[1].set(ylabel="rate", title="after Stage II: invocation rate per memory type")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(img / "latent_vismem.png", dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--only-b", action="store_true",
                    help="rerun part (b) only, keeping part (a) from an existing latent_results.json")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the machine is shared; one thread is also the fastest for these sizes
    if args.quick:
        args.train_rooms, args.test_rooms, args.train_frames, args.lengths = 3, 2, 32, (32, 64)
        args.reader_steps, args.stage_steps, args.stage2_questions, args.questions = 20, (10, 4, 10), 8, 3
        args.vismem_test_frames = 32
    else:
        args.train_rooms, args.test_rooms, args.train_frames, args.lengths = 32, 10, 128, (64, 256, 1024)
        args.reader_steps, args.stage_steps, args.stage2_questions, args.questions = 300, (300, 120, 150), 120, 8
        args.vismem_test_frames = 64
    start = time.time()
    stream = StreamEncoder(DualMemoryConfig(seed=args.seed))
    work = Path(tempfile.mkdtemp(prefix="bench_latent_"))
    try:
        (work / "train").mkdir()
        (work / "test").mkdir()
        if args.only_b:
            res = {"a": json.loads((args.out / "latent_results.json").read_text())["a"]}
            write_episodes(args, work)
        else:
            res = {"a": part_a(args, stream, work)}
        res["b"] = part_b(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res["total_seconds"] = time.time() - start if not args.only_b else res["a"]["seconds"] + res["b"]["seconds"]
    res["settings"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items() if k != "out"}
    if args.quick:  # a smoke run writes nothing
        print(f"total {res['total_seconds']:.0f} s (quick run: nothing written)")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latent_results.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    plots(json.loads(json.dumps(res, default=str), object_hook=_int_keys), args.out)
    print(f"total {res['total_seconds']:.0f} s; results in {args.out / 'latent_results.json'} and latent_*.png")


def _int_keys(d: dict) -> dict:
    return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in d.items()}


if __name__ == "__main__":
    main()
