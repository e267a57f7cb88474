"""The toy task shared by the benchmark and the trainers: episodes -> memory contexts -> LM batches.

:class:`StreamEncoder` turns an :class:`~spatialmem.latent.data.Episode` into tensors: a frozen
(seeded) :class:`~spatialmem.latent.encoding.ObjectTokenEncoder` makes each object token, the
:class:`~spatialmem.latent.dual_memory.DualMemory` adds its 3D point encoding and streams the
frames, and :class:`EpisodeContext` keeps what a question asked after the last frame can use:

* ``current`` — the last frame's tokens (T, D);
* ``window``  — the working memory, last W frames (W*T, D);
* ``memory``  — the dual memory's context, working + episodic (W*T + K, D);
* ``full``    — every real token of the stream with its age (N, D), optional (grows with F).

:func:`toy_vocabulary` and :func:`lm_batch` turn questions into word-token prompts for a small LM.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spatialmem.latent.data import MAX_COUNT, Episode, Question
from spatialmem.latent.dual_memory import DualMemory, DualMemoryConfig
from spatialmem.latent.encoding import ObjectTokenEncoder
from spatialmem.synth.catalog import CATEGORIES

TEMPLATE_WORDS = ("how many did you see ? which appeared first : or is closer to the in view there a just now "
                  "yes no").split()


@dataclass(frozen=True, eq=False)
class EpisodeContext:
    """Tensors of one episode after streaming it (shapes in the module docstring; masks are bool)."""

    current: torch.Tensor
    current_mask: torch.Tensor
    window: torch.Tensor
    window_mask: torch.Tensor
    memory: torch.Tensor
    memory_mask: torch.Tensor
    full: torch.Tensor | None
    questions: tuple[Question, ...]


class StreamEncoder:
    """Frozen token encoder + dual memory that turn episodes into :class:`EpisodeContext`."""

    def __init__(self, config: DualMemoryConfig | None = None) -> None:
        config = config or DualMemoryConfig()
        with torch.random.fork_rng():
            torch.manual_seed(config.seed + 1)
            self.encoder = ObjectTokenEncoder(len(CATEGORIES), config.dim).eval()
        self.memory = DualMemory(config).eval()
        for p in [*self.encoder.parameters(), *self.memory.parameters()]:
            p.requires_grad_(False)

    @property
    def config(self) -> DualMemoryConfig:
        return self.memory.config

    def frame_tokens(self, ep: Episode) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(F, T, D) tokens without the 3D point, (F, T, 3) points, (F, T) mask of an episode."""
        cats = torch.as_tensor(ep.category_ids)
        boxes = torch.as_tensor(ep.boxes)
        with torch.no_grad():
            tok = self.encoder(cats, boxes, include_center=False)
        return tok, boxes[..., :3], cats >= 0

    @torch.no_grad()
    def context(self, ep: Episode, with_full: bool = False) -> EpisodeContext:
        """Stream ``ep`` through a fresh dual memory and collect the contexts."""
        c = self.config
        if ep.category_ids.shape[1] > c.max_tokens:
            raise ValueError(f"episode has {ep.category_ids.shape[1]} tokens per frame > max_tokens {c.max_tokens}")
        tok, pts, mask = self.frame_tokens(ep)
        m = self.memory
        m.reset()
        full = []
        for f in range(ep.num_frames):
            x = m.write(tok[f], pts[f], mask[f])
            if with_full:
                full.append((x[mask[f]], f))
        ctx, cmask = m.context()
        n_work = c.window * c.max_tokens
        last = (m.t - 1 - m.work_time).remainder(c.window)  # 0 for the newest frame
        newest = int(torch.nonzero(last == 0)[0])
        full_t = None
        if with_full:
            now = ep.num_frames - 1
            full_t = torch.cat([x + m.age(torch.full((len(x),), now - f)) + m.kind[0] for x, f in full], 0)
        T = c.max_tokens
        cur = ctx[newest * T:(newest + 1) * T]
        return EpisodeContext(cur, cmask[newest * T:(newest + 1) * T].clone(), ctx[:n_work].clone(),
                              cmask[:n_work].clone(), ctx.clone(), cmask.clone(), full_t, ep.questions)


NUM_CLASSES = MAX_COUNT + 1  # answer classes of a classifier head: counts 0..MAX_COUNT, or 0/1 for binary kinds


def toy_vocabulary() -> list[str]:
    """Every word of the toy prompts and answers."""
    words = set(TEMPLATE_WORDS)
    for c in CATEGORIES:
        words.update(c.split())
    words.update(str(i) for i in range(MAX_COUNT + 1))
    return sorted(words)


@dataclass(frozen=True, eq=False)
class LMBatch:
    """A batch of toy prompts for a language model (B examples).

    Attributes:
        question_ids: (B, Lq) left-padded word ids of "question :".
        question_mask: (B, Lq) 1 for real tokens.
        answer_ids: (B, La) right-padded answer ids ending with eos (pad = -100 in ``answer_labels``).
        answer_labels: (B, La) targets, -100 at padding.
        current / current_mask: (B, T, D) / (B, T) the current frame's tokens.
        window / window_mask, memory / memory_mask: the short- and long-term sources.
        needs: per example "long", "short" or "none".
        answers: per example the answer text.
    """

    question_ids: torch.Tensor
    question_mask: torch.Tensor
    answer_ids: torch.Tensor
    answer_labels: torch.Tensor
    current: torch.Tensor
    current_mask: torch.Tensor
    window: torch.Tensor
    window_mask: torch.Tensor
    memory: torch.Tensor
    memory_mask: torch.Tensor
    needs: tuple[str, ...]
    answers: tuple[str, ...]


def lm_batch(items: list[tuple[EpisodeContext, Question]], tokenizer) -> LMBatch:
    """Tokenise (context, question) pairs into an :class:`LMBatch`."""
    qs = [tokenizer(q.text + " :", add_special_tokens=False).input_ids for _, q in items]
    ans = [tokenizer(q.answer_text, add_special_tokens=False).input_ids + [tokenizer.eos_token_id] for _, q in items]
    Lq, La, B = max(map(len, qs)), max(map(len, ans)), len(items)
    pad = tokenizer.pad_token_id
    qi = torch.full((B, Lq), pad, dtype=torch.long)
    qm = torch.zeros(B, Lq, dtype=torch.long)
    ai = torch.full((B, La), pad, dtype=torch.long)
    al = torch.full((B, La), -100, dtype=torch.long)
    for b, (q, a) in enumerate(zip(qs, ans)):
        qi[b, Lq - len(q):] = torch.tensor(q)
        qm[b, Lq - len(q):] = 1
        ai[b, :len(a)] = torch.tensor(a)
        al[b, :len(a)] = torch.tensor(a)

    def stack(name):
        return torch.stack([getattr(c, name) for c, _ in items])

    return LMBatch(qi, qm, ai, al, stack("current"), stack("current_mask"), stack("window"), stack("window_mask"),
                   stack("memory"), stack("memory_mask"), tuple(q.needs for _, q in items),
                   tuple(q.answer_text for _, q in items))
