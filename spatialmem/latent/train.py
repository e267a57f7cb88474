"""Trainers of the latent vision memory on the toy task (``spatialmem latent train --stage 0|1|2``).

* **Stage 0** (toy base only): trains a small Llama and its object-token projector (D -> H) to
  answer questions with the right memory source written into the prompt as raw tokens ("oracle
  context") in ``oracle_fraction`` of the examples, and without it otherwise. This stands in for a
  pretrained VLM that can read vision tokens; with a real model, skip it (``[model] base = FOLDER``).
* **Stage I** (formation): the base is frozen. For each example a memory type is chosen (the one
  the question needs; a random one when it needs none), its block ``<m_I> [n latent] <m_E>`` is
  inserted at a sampled position (before the question or at the end of the prompt), and the answer
  loss trains both query builders, both formers' LoRA adapters, their scales and the special tokens.
* **Stage II** (invocation): the base and formers are frozen; only the invocation head trains.
  For each question, the greedy answer under each action (no memory, short, long) is decoded once
  with :meth:`VisMem.generate` (it cannot change: everything it uses is frozen), and the model's
  own distribution over those actions at the first answer position (the probability of ``<ms_I>``,
  of ``<ml_I>``, and of every other token) is trained with a GRPO-style objective over groups of
  sampled actions (:mod:`spatialmem.latent.rewards`).

Every stage is seeded (batch order from ``seed`` and the step, so a resumed run sees the same
batches), checkpoints to safetensors every ``save_every`` steps, resumes from its folder, logs its
loss to ``loss.jsonl`` and reports progress through a callback.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from spatialmem.errors import InputError
from spatialmem.latent.checkpoint import Checkpointer
from spatialmem.latent.config import TrainConfig
from spatialmem.latent.data import load_dataset
from spatialmem.latent.dual_memory import DualMemoryConfig
from spatialmem.latent.hf import hidden_size, load_model, tiny_model, word_tokenizer
from spatialmem.latent.rewards import group_advantages, grpo_loss, invocation_reward
from spatialmem.latent.toy import EpisodeContext, LMBatch, StreamEncoder, lm_batch, toy_vocabulary
from spatialmem.latent.vismem import KINDS, SPECIAL_TOKENS, START, VisMem, VisMemConfig

Progress = Callable[[int, int, float], None]
ACTIONS = (None, "short", "long")  # Stage II actions: answer directly, invoke short, invoke long


# -- the toy VLM: base LM + object-token projector ------------------------------------------------
class ToyVLM:
    """A language model that reads object tokens through a linear projector (D -> H)."""

    def __init__(self, model, tokenizer, projector: nn.Linear) -> None:
        self.model, self.tokenizer, self.projector = model, tokenizer, projector

    @classmethod
    def tiny(cls, cfg: TrainConfig) -> ToyVLM:
        tok = word_tokenizer(toy_vocabulary())
        vocab = len(tok) + len(SPECIAL_TOKENS)
        m = tiny_model(cfg.model.kind, vocab, cfg.model.hidden, cfg.model.layers, cfg.model.heads, seed=cfg.seed)
        torch.manual_seed(cfg.seed)
        return cls(m, tok, nn.Linear(cfg.dim, hidden_size(m)))

    @classmethod
    def load(cls, folder: str | Path, dim: int) -> tuple[ToyVLM, bool]:
        """Load a base; returns (vlm, projector_was_saved). A base without projector gets a new one."""
        model, tok = load_model(folder)
        proj = nn.Linear(dim, hidden_size(model))
        p = Path(folder) / "projector.safetensors"
        if p.is_file():
            proj.load_state_dict(load_file(str(p)))
            return cls(model, tok, proj), True
        return cls(model, tok, proj), False

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        self.model.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        save_file({k: v.contiguous() for k, v in self.projector.state_dict().items()},
                  str(folder / "projector.safetensors"))

    def prompt(self, batch: LMBatch, embed: Callable, oracle: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``[oracle context?] [current frame] [question :]`` -> ((B, L, H) embeds, (B, L) mask).

        ``oracle`` is a (B,) bool: put the source the question needs (window / dual-memory
        context) in front of the prompt as raw projected tokens.
        """
        parts = [self.projector(batch.current), embed(batch.question_ids)]
        masks = [batch.current_mask.long(), batch.question_mask]
        if oracle is not None:
            ctx, cmask = oracle_context(batch, oracle)
            parts.insert(0, self.projector(ctx))
            masks.insert(0, cmask.long())
        return torch.cat(parts, 1), torch.cat(masks, 1)


def oracle_context(batch: LMBatch, use: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, W*T + K, D) the source each question needs (zero mask where unused or not needed)."""
    B, N, D = batch.memory.shape
    ctx = batch.memory.clone()
    mask = torch.zeros(B, N, dtype=torch.bool)
    for b, need in enumerate(batch.needs):
        if not bool(use[b]) or need == "none":
            continue
        if need == "short":
            n = batch.window.shape[1]
            ctx[b, :n], mask[b, :n] = batch.window[b], batch.window_mask[b]
        else:
            mask[b] = batch.memory_mask[b]
    return ctx, mask


def answer_loss(model_forward, embeds: torch.Tensor, mask: torch.Tensor, batch: LMBatch, embed: Callable):
    """Teacher-forced cross-entropy of the answer tokens after a prompt."""
    ans = embed(batch.answer_ids)
    amask = (batch.answer_labels != -100).long()
    out = model_forward(torch.cat([embeds, ans], 1), torch.cat([mask, amask], 1))
    L, La = embeds.shape[1], ans.shape[1]
    logits = out.logits[:, L - 1:L - 1 + La]
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), batch.answer_labels.reshape(-1),
                                       ignore_index=-100)


# -- data ------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ToyData:
    """Question items (episode context, question) of a dataset folder."""

    items: list

    @classmethod
    def from_folder(cls, folder: str, stream: StreamEncoder) -> ToyData:
        items = []
        for ep in load_dataset(folder):
            ctx = stream.context(ep)
            items.extend((ctx, q) for q in ctx.questions)
        return cls(items)

    def batch(self, tokenizer, seed: int, step: int, size: int) -> LMBatch:
        rng = np.random.default_rng([seed, step])
        idx = rng.choice(len(self.items), size=min(size, len(self.items)), replace=False)
        return lm_batch([self.items[i] for i in idx], tokenizer)


def stream_encoder(cfg: TrainConfig) -> StreamEncoder:
    return StreamEncoder(DualMemoryConfig(dim=cfg.dim, window=cfg.window, slots=cfg.slots, seed=cfg.seed))


def _train_loop(ck: Checkpointer, params: dict[str, torch.Tensor], optimizer, steps: int, step_fn,
                save_every: int, log_every: int, seed: int, progress: Progress | None, resume: bool) -> int:
    start = 0
    if resume and ck.exists:
        start = ck.load(params, optimizer)
        ck.truncate_log(start)
    elif ck.folder.exists() and (ck.folder / "loss.jsonl").exists():
        (ck.folder / "loss.jsonl").unlink()
    for step in range(start, steps):
        torch.manual_seed(seed * 100003 + step)
        optimizer.zero_grad()
        loss, extra = step_fn(step)
        loss.backward()
        optimizer.step()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            ck.log({"step": step + 1, "loss": round(float(loss.detach()), 6), **extra})
        if (step + 1) % save_every == 0 or step + 1 == steps:
            ck.save(step + 1, params, optimizer, {"seed": seed})
        if progress is not None:
            progress(step + 1, steps, float(loss.detach()))
    return steps


# -- stage 0 ---------------------------------------------------------------------------------------
def train_stage0(cfg: TrainConfig, progress: Progress | None = None, resume: bool = True) -> Path:
    """Train the tiny toy base and write it to ``<out>/stage0/base``."""
    if cfg.model.base != "tiny":
        raise InputError("stage 0 trains the tiny toy base only; with [model] base = a real model, start at stage 1")
    out = Path(cfg.out) / "stage0"
    stream = stream_encoder(cfg)
    data = ToyData.from_folder(cfg.train_data, stream)
    vlm = ToyVLM.tiny(cfg)
    model = vlm.model.train()
    emb = model.get_input_embeddings()
    params = {f"model.{k}": p for k, p in model.named_parameters()}
    params.update({f"projector.{k}": p for k, p in vlm.projector.named_parameters()})
    s = cfg.stage0
    opt = torch.optim.AdamW(list(params.values()), lr=s.lr, weight_decay=0.01)

    def step_fn(step):
        batch = data.batch(vlm.tokenizer, cfg.seed, step, s.batch_size)
        oracle = torch.rand(len(batch.needs)) < cfg.oracle_fraction
        e, m = vlm.prompt(batch, emb, oracle)
        return answer_loss(lambda x, mk: model(inputs_embeds=x, attention_mask=mk), e, m, batch, emb), {}

    _train_loop(Checkpointer(out), params, opt, s.steps, step_fn, s.save_every, s.log_every, cfg.seed, progress,
                resume)
    model.eval()
    vlm.save(out / "base")
    return out / "base"


# -- stage I ---------------------------------------------------------------------------------------
def base_folder(cfg: TrainConfig) -> Path:
    return Path(cfg.out) / "stage0" / "base" if cfg.model.base == "tiny" else Path(cfg.model.base)


def build_vismem(cfg: TrainConfig) -> tuple[ToyVLM, VisMem, bool]:
    folder = base_folder(cfg)
    if cfg.model.base == "tiny" and not (folder / "config.json").is_file():
        raise InputError(f"{folder} has no trained toy base; run `spatialmem latent train --stage 0` first")
    torch.manual_seed(cfg.seed)
    vlm, had_projector = ToyVLM.load(folder, cfg.dim)
    vm = VisMem(vlm.model, vlm.tokenizer, VisMemConfig(short_tokens=cfg.short_tokens, long_tokens=cfg.long_tokens,
                                                       lora_rank=cfg.lora_rank, invoke_within=1, seed=cfg.seed))
    vlm.projector.requires_grad_(not had_projector)
    return vlm, vm, had_projector


def stage1_loss(vlm: ToyVLM, vm: VisMem, batch: LMBatch, kinds: list[str], at_end: bool) -> torch.Tensor:
    """Answer loss with each example's memory block inserted (examples grouped by memory kind)."""
    losses, weights = [], []
    for kind in KINDS:
        idx = [b for b, k in enumerate(kinds) if k == kind]
        if not idx:
            continue
        sub = _select(batch, idx)
        e, m = vlm.prompt(sub, vm.embed)
        T = sub.current.shape[1]
        pos = e.shape[1] if at_end else T
        with torch.no_grad():
            pre_e = torch.cat([e[:, :pos], vm.special_embeds(START[kind], len(idx))], 1)
            pre_m = torch.cat([m[:, :pos], torch.ones(len(idx), 1, dtype=m.dtype)], 1)
            hidden = vm.base_forward(pre_e, pre_m).hidden_states[-1]
        src, smask = (sub.window, sub.window_mask) if kind == "short" else (sub.memory, sub.memory_mask)
        memory = vm.form(kind, hidden, pre_m.bool(), vlm.projector(src), smask)
        e2, m2 = vm.insert(e, m, pos, kind, memory)
        losses.append(answer_loss(vm.base_forward, e2, m2, sub, vm.embed))
        weights.append(len(idx))
    w = torch.tensor(weights, dtype=torch.float32)
    return (torch.stack(losses) * w).sum() / w.sum()


def _select(batch: LMBatch, idx: list[int]) -> LMBatch:
    t = torch.tensor(idx)
    kw = {k: (v[t] if torch.is_tensor(v) else tuple(v[i] for i in idx)) for k, v in vars(batch).items()}
    return LMBatch(**kw)


def train_stage1(cfg: TrainConfig, progress: Progress | None = None, resume: bool = True) -> Path:
    """Stage I (formation); writes ``<out>/stage1/vismem.safetensors``."""
    out = Path(cfg.out) / "stage1"
    stream = stream_encoder(cfg)
    data = ToyData.from_folder(cfg.train_data, stream)
    vlm, vm, had_projector = build_vismem(cfg)
    vm.set_trainable(lora=True, builders=True, invoke=False)
    params = {k: p for k, p in vm.trainable_state().items() if p.requires_grad}
    if not had_projector:
        params.update({f"projector.{k}": p for k, p in vlm.projector.named_parameters()})
    s = cfg.stage1
    opt = torch.optim.AdamW(list(params.values()), lr=s.lr, weight_decay=0.0)

    def step_fn(step):
        batch = data.batch(vlm.tokenizer, cfg.seed, step, s.batch_size)
        rng = random.Random(cfg.seed * 7919 + step)
        kinds = [n if n in KINDS else rng.choice(KINDS) for n in batch.needs]
        at_end = rng.random() < 0.5
        return stage1_loss(vlm, vm, batch, kinds, at_end), {"insert": "end" if at_end else "before_question"}

    _train_loop(Checkpointer(out), params, opt, s.steps, step_fn, s.save_every, s.log_every, cfg.seed, progress,
                resume)
    save_vismem(vm, vlm, out / "vismem.safetensors")
    return out / "vismem.safetensors"


def save_vismem(vm: VisMem, vlm: ToyVLM, path: Path) -> None:
    """Write VisMem's added parameters (+ the projector) to one safetensors file."""
    t = {k: v.detach().contiguous().clone() for k, v in vm.trainable_state().items()}
    t.update({f"projector.{k}": v.detach().contiguous().clone() for k, v in vlm.projector.state_dict().items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(t, str(path.with_suffix(".tmp")))
    path.with_suffix(".tmp").replace(path)


def load_vismem(vm: VisMem, vlm: ToyVLM, path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path} not found; run the previous stage first")
    t = load_file(str(path))
    with torch.no_grad():
        for k, p in vm.trainable_state().items():
            p.copy_(t[k])
        for k, p in vlm.projector.named_parameters():
            p.copy_(t[f"projector.{k}"])


# -- stage II --------------------------------------------------------------------------------------
def answer_text(vm: VisMem, tokens) -> str:
    ids = [t for t in tokens if t >= 0 and t not in vm.token_ids.values() and t != vm.tokenizer.eos_token_id]
    return vm.tokenizer.decode(ids).strip()


def generate_answer(vlm: ToyVLM, vm: VisMem, ctx: EpisodeContext, q, invoke: str) -> tuple[bool, tuple]:
    """Greedy answer to one question; returns (correct, invocations)."""
    batch = lm_batch([(ctx, q)], vlm.tokenizer)
    with torch.no_grad():
        e, m = vlm.prompt(batch, vm.embed)
        vision = {"short": vlm.projector(batch.window), "long": vlm.projector(batch.memory)}
    vmask = {"short": batch.window_mask, "long": batch.memory_mask}
    r = vm.generate(e, m, vision=vision, vision_mask=vmask, max_new_tokens=vm.config.long_tokens + 8, invoke=invoke)
    return answer_text(vm, r.tokens) == q.answer_text, r.invocations


def decision_features(vlm: ToyVLM, vm: VisMem, items: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Per question: (H,) final hidden state at the first answer position and the log-mass of answering."""
    hs, direct = [], []
    special = list(vm.token_ids.values())
    for i in range(0, len(items), 32):
        batch = lm_batch(items[i:i + 32], vlm.tokenizer)
        with torch.no_grad():
            e, m = vlm.prompt(batch, vm.embed)
            out = vm.base_forward(e, m)
            h = out.hidden_states[-1][:, -1]
            logits = out.logits[:, -1].float().clone()
            logits[:, special] = float("-inf")
        hs.append(h)
        direct.append(torch.logsumexp(logits, -1))
    return torch.cat(hs), torch.cat(direct)


def policy_logprobs(vm: VisMem, h: torch.Tensor, direct: torch.Tensor) -> torch.Tensor:
    """(B, 3) log-probabilities of (answer directly, invoke short, invoke long) under the model."""
    inv = vm.invoke(h).float()
    return torch.log_softmax(torch.cat([direct[:, None], inv], 1), -1)


def train_stage2(cfg: TrainConfig, progress: Progress | None = None, resume: bool = True) -> Path:
    """Stage II (invocation); writes ``<out>/stage2/vismem.safetensors``."""
    out = Path(cfg.out) / "stage2"
    s = cfg.stage2
    stream = stream_encoder(cfg)
    data = ToyData.from_folder(cfg.train_data, stream)
    vlm, vm, _ = build_vismem(cfg)
    load_vismem(vm, vlm, Path(cfg.out) / "stage1" / "vismem.safetensors")
    vm.set_trainable(lora=False, builders=False, invoke=True)
    vlm.projector.requires_grad_(False)
    rng = np.random.default_rng([cfg.seed, 2])
    items = [data.items[i] for i in rng.permutation(len(data.items))[:s.questions]]
    cache = out / "rollouts.json"
    if resume and cache.is_file():
        correct = torch.tensor(json.loads(cache.read_text())["correct"], dtype=torch.bool)
    else:  # greedy answers under each action; fixed because base, formers and builders are frozen
        correct = torch.tensor([[generate_answer(vlm, vm, c, q, a or "never")[0] for a in ACTIONS]
                                for c, q in items], dtype=torch.bool)
        out.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"correct": correct.tolist()}) + "\n")
    h, direct = decision_features(vlm, vm, items)
    needs = [q.needs for _, q in items]
    rewards = torch.tensor([[invocation_reward(bool(correct[i, a]), ACTIONS[a], needs[i], s.rewards)
                             for a in range(3)] for i in range(len(items))])
    with torch.no_grad():  # start from equal odds of the three actions, so that the groups explore
        vm.invoke.weight.zero_()
        vm.invoke.bias.fill_(float(direct.mean()))
    params = {f"vismem.invoke.{k}": p for k, p in vm.invoke.named_parameters()}
    opt = torch.optim.Adam(list(params.values()), lr=s.lr)

    def step_fn(step):
        g = torch.Generator().manual_seed(cfg.seed * 100003 + step)
        idx = torch.randperm(len(items), generator=g)[:s.batch_size]
        lp = policy_logprobs(vm, h[idx], direct[idx])  # (B, 3)
        actions = torch.multinomial(lp.exp().detach(), s.group_size, replacement=True, generator=g)  # (B, G)
        r = rewards[idx][torch.arange(len(idx))[:, None], actions]
        loss = grpo_loss(lp.gather(1, actions), group_advantages(r))
        return loss, {"reward": round(float(r.mean()), 4)}

    _train_loop(Checkpointer(out), params, opt, s.steps, step_fn, s.save_every, s.log_every, cfg.seed, progress,
                resume)
    save_vismem(vm, vlm, out / "vismem.safetensors")
    return out / "vismem.safetensors"


# -- evaluation ------------------------------------------------------------------------------------
def evaluate(vlm: ToyVLM, vm: VisMem, items: list, invoke: str) -> dict:
    """Accuracy (overall and per question kind) and invocation rate per memory type.

    ``invoke``: "never", "auto" (the model decides) or "needed" (force the type the question needs;
    no memory for questions that need none).
    """
    per_kind: dict[str, list[bool]] = {}
    calls: dict[str, dict[str, int]] = {}
    for ctx, q in items:
        mode = invoke if invoke != "needed" else (q.needs if q.needs in KINDS else "never")
        ok, inv = generate_answer(vlm, vm, ctx, q, mode)
        per_kind.setdefault(q.kind, []).append(ok)
        row = calls.setdefault(q.needs, {"questions": 0, "short": 0, "long": 0})
        row["questions"] += 1
        for kind, _ in inv:
            row[kind] += 1
    n = max(1, len(items))
    flat = [x for v in per_kind.values() for x in v]
    rate = {k: sum(r[k] for r in calls.values()) / n for k in KINDS}
    by_needs = {need: {k: r[k] / r["questions"] for k in KINDS} for need, r in sorted(calls.items())}
    return {"accuracy": sum(flat) / n, "per_kind": {k: sum(v) / len(v) for k, v in sorted(per_kind.items())},
            "invocation_rate": rate, "invocation_rate_by_needs": by_needs, "n": len(items)}


def oracle_accuracy(vlm: ToyVLM, items: list, oracle: bool) -> float:
    """Stage-0 base accuracy (first answer token greedy, teacher-free) with / without oracle context."""
    ok = 0
    emb = vlm.model.get_input_embeddings()
    for i in range(0, len(items), 32):
        batch = lm_batch(items[i:i + 32], vlm.tokenizer)
        with torch.no_grad():
            e, m = vlm.prompt(batch, emb, torch.full((len(batch.needs),), oracle))
            ids = _greedy(vlm.model, e, m, batch.answer_ids.shape[1])
        for b in range(len(batch.needs)):
            want = batch.answer_labels[b][batch.answer_labels[b] != -100]
            ok += int(torch.equal(ids[b, :len(want)], want))
    return ok / max(1, len(items))


def _greedy(model, e, m, n):
    ids = []
    emb = model.get_input_embeddings()
    for _ in range(n):
        logits = model(inputs_embeds=e, attention_mask=m).logits[:, -1]
        tok = logits.argmax(-1)
        ids.append(tok)
        e = torch.cat([e, emb(tok)[:, None]], 1)
        m = torch.cat([m, torch.ones_like(m[:, :1])], 1)
    return torch.stack(ids, 1)


def run_stage(cfg: TrainConfig, stage: int, progress: Progress | None = None, resume: bool = True) -> dict:
    """Train stage 0, 1 or 2 and evaluate on ``test_data`` when given; returns (and writes) the figures."""
    if stage not in (0, 1, 2):
        raise InputError(f"--stage must be 0, 1 or 2, got {stage}")
    torch.manual_seed(cfg.seed)
    path = (train_stage0, train_stage1, train_stage2)[stage](cfg, progress, resume)
    result: dict = {"stage": stage, "output": str(path)}
    if cfg.test_data:
        stream = stream_encoder(cfg)
        test = ToyData.from_folder(cfg.test_data, stream).items
        if stage == 0:
            vlm, _ = ToyVLM.load(path, cfg.dim)
            result["accuracy_no_context"] = oracle_accuracy(vlm, test, False)
            result["accuracy_oracle_context"] = oracle_accuracy(vlm, test, True)
        else:
            vlm, vm, _ = build_vismem(cfg)
            load_vismem(vm, vlm, path)
            result["never"] = evaluate(vlm, vm, test, "never")
            result["needed" if stage == 1 else "auto"] = evaluate(vlm, vm, test, "needed" if stage == 1 else "auto")
        (Path(cfg.out) / f"stage{stage}" / "eval.json").write_text(json.dumps(result, indent=1) + "\n")
    return result
