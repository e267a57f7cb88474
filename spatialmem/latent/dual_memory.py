"""Token-level dual memory (after VLM², 2025): a working window plus an episodic slot bank.

A stream of frames, each a set of at most ``max_tokens`` visual tokens of dimension ``dim``,
goes in one frame at a time through :meth:`DualMemory.step`:

1. **3D-aware tokens.** When the tokens' world points are given (from depth and pose, or from
   an explicit memory's instances), a learned encoding of each point is added to its token, so
   the same surface seen from two views gives the same token.
2. **Working memory.** A ring buffer of the last ``window`` frames (``window x max_tokens`` tokens).
3. **Episodic memory.** ``slots`` vectors. Each real token of the frame that leaves the window is
   consolidated: merged (count-weighted mean, earliest time kept) into the most cosine-similar
   slot when the similarity is at least ``merge_threshold``; otherwise written to a free slot;
   when the bank is full, merged into (policy ``"merge"``) or written over (``"replace"``) the
   most similar slot.
4. **Read.** The current frame's tokens read the working and the episodic memory through two
   cross-attentions; a learned gate mixes the two readouts (:class:`GatedMemoryRead`).

Every buffer is preallocated, so the footprint (:meth:`DualMemory.memory_bytes`) and the work per
frame do not depend on the stream length. Buffers are part of ``state_dict`` (a saved memory
resumes where it stopped). Consolidation is not differentiable (tokens are stored detached); the
point encoding, age encoding, reads and gate are learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from spatialmem.errors import InputError
from spatialmem.latent.encoding import AgeEncoding, PointEncoding


@dataclass(frozen=True)
class DualMemoryConfig:
    """Sizes of a :class:`DualMemory`.

    Attributes:
        dim: token dimension D.
        window: W, frames in the working memory.
        slots: K, episodic slots.
        max_tokens: T, tokens per frame (fewer are padded).
        heads: attention heads of the reads.
        merge_threshold: cosine similarity at or above which a token merges into a slot.
        policy: "merge" or "replace" when the bank is full.
        seed: seed of the parameter initialisation.
    """

    dim: int = 64
    window: int = 8
    slots: int = 32
    max_tokens: int = 16
    heads: int = 4
    merge_threshold: float = 0.9
    policy: str = "merge"
    seed: int = 0

    def validate(self) -> DualMemoryConfig:
        if self.dim % self.heads:
            raise InputError(f"dual memory dim {self.dim} must be a multiple of heads {self.heads}")
        if min(self.window, self.slots, self.max_tokens) < 1:
            raise InputError("dual memory window, slots and max_tokens must be >= 1")
        if self.policy not in ("merge", "replace"):
            raise InputError(f"dual memory policy must be 'merge' or 'replace', got {self.policy!r}")
        return self


@dataclass(frozen=True, eq=False)
class DualMemoryOutput:
    """What :meth:`DualMemory.step` returns.

    Attributes:
        tokens: (T, D) the current frame's tokens after reading the memory (the tokens to give
            the model for this frame).
        context: (W * T + K, D) the whole memory as tokens (working then episodic, with age and
            kind encodings), for a model that attends to the memory itself.
        context_mask: (W * T + K,) bool, True where ``context`` holds a real token.
    """

    tokens: torch.Tensor
    context: torch.Tensor
    context_mask: torch.Tensor


class GatedMemoryRead(nn.Module):
    """Queries read a working and an episodic token set by cross-attention; a gate mixes them.

    ``out = q + g * read_work + (1 - g) * read_epi`` with ``g = sigmoid(Linear([q, read_work, read_epi]))``
    per channel, then a feed-forward residual. With ``episodic=None`` only the working read is used.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.read_work = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.read_epi = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.gate = nn.Linear(3 * dim, dim)
        self.ffn = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    @staticmethod
    def _attend(attn: nn.MultiheadAttention, q, kv, mask):
        # (B, Q, D) queries, (B, N, D) keys, (B, N) bool real-token mask; rows with no real key read zeros.
        empty = ~mask.any(dim=1)
        safe = mask.clone()
        safe[empty, 0] = True
        out, _ = attn(q, kv, kv, key_padding_mask=~safe, need_weights=False)
        return out.masked_fill(empty[:, None, None], 0.0)

    def forward(self, q: torch.Tensor, work: torch.Tensor, work_mask: torch.Tensor,
                epi: torch.Tensor | None = None, epi_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, Q, D) queries; (B, N, D) working tokens + (B, N) mask; (B, K, D) episodic + (B, K) mask."""
        h = self.norm_q(q)
        rw = self._attend(self.read_work, h, work, work_mask)
        if epi is None:
            mixed = rw
        else:
            re = self._attend(self.read_epi, h, epi, epi_mask)
            g = torch.sigmoid(self.gate(torch.cat([h, rw, re], dim=-1)))
            mixed = g * rw + (1 - g) * re
        x = q + mixed
        return x + self.ffn(x)


class DualMemory(nn.Module):
    """Streaming working + episodic token memory of fixed size (see the module docstring)."""

    def __init__(self, config: DualMemoryConfig = DualMemoryConfig()) -> None:
        super().__init__()
        self.config = c = config.validate()
        g = torch.random.fork_rng()
        with g:
            torch.manual_seed(c.seed)
            self.point = PointEncoding(c.dim)
            self.age = AgeEncoding(c.dim)
            self.kind = nn.Parameter(torch.randn(2, c.dim) * 0.02)  # 0: working, 1: episodic
            self.read = GatedMemoryRead(c.dim, c.heads)
        self.register_buffer("work", torch.zeros(c.window, c.max_tokens, c.dim))
        self.register_buffer("work_mask", torch.zeros(c.window, c.max_tokens, dtype=torch.bool))
        self.register_buffer("work_time", torch.full((c.window,), -1, dtype=torch.long))
        self.register_buffer("slots", torch.zeros(c.slots, c.dim))
        self.register_buffer("slot_count", torch.zeros(c.slots))
        self.register_buffer("slot_time", torch.full((c.slots,), -1, dtype=torch.long))
        self.register_buffer("t", torch.zeros((), dtype=torch.long))

    # -- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the stream (parameters are kept)."""
        self.work.zero_()
        self.work_mask.zero_()
        self.work_time.fill_(-1)
        self.slots.zero_()
        self.slot_count.zero_()
        self.slot_time.fill_(-1)
        self.t.zero_()

    def memory_bytes(self) -> int:
        """Bytes held by the stream state (buffers); constant for a given config."""
        return sum(b.numel() * b.element_size() for b in self.buffers())

    @property
    def slots_used(self) -> int:
        return int((self.slot_count > 0).sum())

    # -- streaming ---------------------------------------------------------------------------
    def encode(self, frame_tokens: torch.Tensor, points_world: torch.Tensor | None) -> torch.Tensor:
        """(T, D) tokens (+ (T, 3) world points in metres) -> (T, D) 3D-aware tokens."""
        return frame_tokens if points_world is None else frame_tokens + self.point(points_world)

    @torch.no_grad()
    def _consolidate(self, tokens: torch.Tensor, mask: torch.Tensor, time: int) -> None:
        # Sequential per token (a token may merge into a slot the previous one created); done on numpy
        # copies of the small bank, which is far cheaper per operation than torch on tiny tensors.
        c = self.config
        real = tokens[mask].detach().cpu().double().numpy()
        if not len(real):
            return
        slots = self.slots.detach().cpu().double().numpy()
        count = self.slot_count.detach().cpu().numpy().astype(np.float64)
        first = self.slot_time.detach().cpu().numpy().copy()
        norms = np.linalg.norm(slots, axis=1)
        for v in real:
            used = count > 0
            vn = float(np.linalg.norm(v))
            sims = np.where(used, slots @ v / np.maximum(norms * vn, 1e-8), -2.0)
            j = int(np.argmax(sims))
            n_used = int(used.sum())
            if (n_used and sims[j] >= c.merge_threshold) or (n_used == c.slots and c.policy == "merge"):
                slots[j] = (slots[j] * count[j] + v) / (count[j] + 1)
                count[j] += 1
                first[j] = min(int(first[j]), time)
            else:  # a free slot, or (policy "replace") the most similar one when the bank is full
                if n_used < c.slots:
                    j = int(np.argmin(used))
                slots[j], count[j], first[j] = v, 1.0, time
            norms[j] = np.linalg.norm(slots[j])
        self.slots.copy_(torch.from_numpy(slots))
        self.slot_count.copy_(torch.from_numpy(count))
        self.slot_time.copy_(torch.from_numpy(first))

    def write(self, frame_tokens: torch.Tensor, points_world: torch.Tensor | None = None,
              mask: torch.Tensor | None = None) -> torch.Tensor:
        """Add one frame to the memory without reading; returns its (T, D) 3D-aware tokens."""
        c = self.config
        T = frame_tokens.shape[0]
        if frame_tokens.ndim != 2 or frame_tokens.shape[1] != c.dim or T > c.max_tokens:
            raise InputError(f"frame_tokens must be (T <= {c.max_tokens}, {c.dim}), got {tuple(frame_tokens.shape)}")
        if points_world is not None and tuple(points_world.shape) != (T, 3):
            raise InputError(f"points_world must be ({T}, 3) metres, got {tuple(points_world.shape)}")
        m = torch.ones(T, dtype=torch.bool, device=frame_tokens.device) if mask is None else mask.bool()
        x = self.encode(frame_tokens, points_world)
        pos = int(self.t) % c.window
        with torch.no_grad():
            if int(self.t) >= c.window:  # the oldest frame leaves the window
                self._consolidate(self.work[pos], self.work_mask[pos], int(self.work_time[pos]))
            self.work[pos].zero_()
            self.work[pos, :T] = x.detach()
            self.work_mask[pos].zero_()
            self.work_mask[pos, :T] = m
            self.work_time[pos] = self.t
            self.t += 1
        return x

    def context(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The memory as tokens: ((W*T + K, D) tokens with age/kind encodings, (W*T + K,) mask)."""
        c = self.config
        now = self.t - 1
        wt = (now - self.work_time).clamp(min=0)[:, None].expand(c.window, c.max_tokens)
        work = self.work + self.age(wt) + self.kind[0]
        epi = self.slots + self.age((now - self.slot_time).clamp(min=0)) + self.kind[1]
        ctx = torch.cat([work.reshape(-1, c.dim), epi], dim=0)
        mask = torch.cat([self.work_mask.reshape(-1), self.slot_count > 0], dim=0)
        return ctx, mask

    def step(self, frame_tokens: torch.Tensor, points_world: torch.Tensor | None = None,
             mask: torch.Tensor | None = None) -> DualMemoryOutput:
        """Stream one frame: write it, then let its tokens read both memories.

        Args:
            frame_tokens: (T, D) visual tokens of the frame, T <= max_tokens.
            points_world: optional (T, 3) world point of each token (metres), for 3D awareness.
            mask: optional (T,) bool, False for padding tokens.
        """
        c = self.config
        x = self.write(frame_tokens, points_world, mask)
        ctx, cmask = self.context()
        n_work = c.window * c.max_tokens
        out = self.read(x[None], ctx[None, :n_work], cmask[None, :n_work], ctx[None, n_work:], cmask[None, n_work:])
        return DualMemoryOutput(out[0], ctx, cmask)
