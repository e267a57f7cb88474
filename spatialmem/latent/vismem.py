"""Latent vision memory invoked during generation (after VisMem, 2025), for Hugging Face (V)LMs.

Pieces:

* **Special tokens** ``<ms_I> <ms_E>`` (short-term memory start / end) and ``<ml_I> <ml_E>``
  (long-term) are added to the tokenizer; the model's embeddings are resized when the new ids do
  not fit. Their input embeddings are a small trainable table (:attr:`VisMem.special`), written
  into ``inputs_embeds`` wherever those ids appear, so the base embedding matrix stays frozen.
* **Invocation head.** A forward hook on the output embeddings replaces the logits of ``<ms_I>``
  and ``<ml_I>`` by a trainable linear read of the final hidden state (Stage II trains it) and
  sets the end tokens' logits to -inf (the loop inserts them).
* :class:`QueryBuilder` — a 2-layer transformer decoder (8 heads) whose learned queries (one per
  memory token) read the hidden states of the sequence so far.
* :class:`MemoryFormer` — the base language model itself with a rank-16 LoRA adapter (peft), one
  adapter per memory type. It reads ``[vision tokens, queries]`` and its last hidden states at the
  query positions, scaled, are the latent memory tokens.
* :meth:`VisMem.generate` — greedy / sampled decoding with the KV cache; when the model emits
  ``<ms_I>`` or ``<ml_I>`` the memory tokens of that type are formed and fed (through the cache),
  followed by the matching end token.

Only ``inputs_embeds``, ``get_decoder`` and hooks are used: the model's code is not edited.
Shapes: B batch, L sequence, H hidden size, N vision tokens, n memory tokens of a type.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from spatialmem.errors import InputError
from spatialmem.latent.hf import (
    cache_keyword,
    decode_position_ids,
    hidden_size,
    output_cache,
    reset_rope_state,
    text_decoder,
)

SPECIAL_TOKENS = ("<ms_I>", "<ms_E>", "<ml_I>", "<ml_E>")
KINDS = ("short", "long")
START = {"short": "<ms_I>", "long": "<ml_I>"}
END = {"short": "<ms_E>", "long": "<ml_E>"}
LATENT = -1  # placeholder id of a latent memory token in a generated sequence


@dataclass(frozen=True)
class VisMemConfig:
    """Sizes of the latent vision memory.

    Attributes:
        short_tokens: latent tokens of the short-term memory (8; the paper's setting is 4).
        long_tokens: latent tokens of the long-term memory (16; the paper's setting is 8).
        query_layers / query_heads: the query builder's transformer (2 layers, 8 heads).
        lora_rank / lora_alpha: the formers' LoRA adapters.
        lora_targets: regex of the language model's linear layers that get LoRA (vision towers excluded).
        max_invocations: at most this many memory insertions per generated answer.
        invoke_within: invocation is allowed only among the first this many generated tokens
            (0: anywhere). The toy trainer uses 1: its Stage II trains the decision before the
            answer only, and a head never trained elsewhere must not fire after the answer.
        seed: seed of the new parameters.
    """

    short_tokens: int = 8
    long_tokens: int = 16
    query_layers: int = 2
    query_heads: int = 8
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_targets: str = r"^(?!.*(visual|vision)).*\.(q_proj|k_proj|v_proj|o_proj)$"
    max_invocations: int = 1
    invoke_within: int = 0
    seed: int = 0

    def tokens(self, kind: str) -> int:
        return self.short_tokens if kind == "short" else self.long_tokens


@dataclass(frozen=True)
class GenerationResult:
    """One generated continuation.

    Attributes:
        tokens: generated ids in order; latent memory tokens appear as :data:`LATENT` (-1).
        invocations: (kind, index in ``tokens`` of its start token) per memory insertion.
    """

    tokens: tuple[int, ...]
    invocations: tuple[tuple[str, int], ...]


class QueryBuilder(nn.Module):
    """Learned queries read the hidden states so far: (B, L, H) + (B, L) mask -> (B, n, H)."""

    def __init__(self, hidden: int, num_queries: int, layers: int = 2, heads: int = 8) -> None:
        super().__init__()
        if hidden % heads:
            raise InputError(f"hidden size {hidden} must be a multiple of the query builder's heads {heads}")
        self.queries = nn.Parameter(torch.randn(num_queries, hidden) * 0.02)
        self.norm = nn.LayerNorm(hidden)
        layer = nn.TransformerDecoderLayer(hidden, heads, 2 * hidden, dropout=0.0, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, layers)

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B = hidden_states.shape[0]
        q = self.queries[None].expand(B, -1, -1)
        pad = None if mask is None else ~mask.bool()
        return self.decoder(q, self.norm(hidden_states), memory_key_padding_mask=pad)


class MemoryFormer(nn.Module):
    """The base LM with the LoRA adapter ``kind``: ``[vision, queries]`` -> (B, n, H) memory tokens."""

    def __init__(self, owner: VisMem, kind: str, init_scale: float) -> None:
        super().__init__()
        self.kind = kind
        self._owner = [owner]  # not a submodule: the LM belongs to the owner
        self.scale = nn.Parameter(torch.tensor(float(init_scale)))

    def forward(self, queries: torch.Tensor, vision: torch.Tensor | None = None,
                vision_mask: torch.Tensor | None = None) -> torch.Tensor:
        owner = self._owner[0]
        B, n, _ = queries.shape
        parts, masks = [], []
        if vision is not None:
            parts.append(vision.to(queries.dtype))
            vm = torch.ones(vision.shape[:2], dtype=torch.bool, device=vision.device) if vision_mask is None \
                else vision_mask.bool()
            masks.append(vm)
        parts.append(queries)
        masks.append(torch.ones(B, n, dtype=torch.bool, device=queries.device))
        with owner.adapter(self.kind):
            h = owner.decoder(inputs_embeds=torch.cat(parts, 1), attention_mask=torch.cat(masks, 1).long())
        return h.last_hidden_state[:, -n:] * self.scale


class VisMem(nn.Module):
    """Latent vision memory attached to a Hugging Face causal LM or VLM (see the module docstring).

    Args:
        model: the base model (its weights are frozen; LoRA adapters are injected with peft).
        tokenizer: its tokenizer; the four special tokens are added to it.
        config: sizes.
    """

    def __init__(self, model, tokenizer, config: VisMemConfig = VisMemConfig()) -> None:
        super().__init__()
        from peft import LoraConfig, get_peft_model

        self.config = config
        self.tokenizer = tokenizer
        tokenizer.add_tokens(list(SPECIAL_TOKENS), special_tokens=True)
        ids = tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS))
        self.token_ids = dict(zip(SPECIAL_TOKENS, ids))
        emb = model.get_input_embeddings()
        if max(ids) >= emb.num_embeddings:
            model.resize_token_embeddings(max(ids) + 1, mean_resizing=False)
            emb = model.get_input_embeddings()
        for p in model.parameters():
            p.requires_grad_(False)
        H = hidden_size(model)
        lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                          target_modules=config.lora_targets)
        self.peft = get_peft_model(model, lora, adapter_name="short")
        self.peft.add_adapter("long", lora)
        self._hf = [model]  # the HF model (LoRA layers injected in place), not registered twice
        self.decoder = text_decoder(model)
        g = torch.random.fork_rng()
        with g:
            torch.manual_seed(config.seed)
            rms = float(emb.weight.detach().float().pow(2).mean().sqrt())
            self.special = nn.Embedding(len(SPECIAL_TOKENS), H)
            with torch.no_grad():
                self.special.weight.normal_(0.0, rms)
            self.builders = nn.ModuleDict({k: QueryBuilder(H, config.tokens(k), config.query_layers,
                                                           config.query_heads) for k in KINDS})
            self.formers = nn.ModuleDict({k: MemoryFormer(self, k, rms) for k in KINDS})
            self.invoke = nn.Linear(H, 2)
            with torch.no_grad():
                self.invoke.weight.zero_()
                self.invoke.bias.fill_(-10.0)  # off until Stage II teaches it
        self.invocation_enabled = True
        self._hook = model.get_output_embeddings().register_forward_hook(self._logits_hook)
        self.set_trainable(lora=True)

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def model(self):
        return self._hf[0]

    def id_of(self, token: str) -> int:
        return self.token_ids[token]

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The parameters VisMem adds (builders, formers' LoRA and scales, special embeddings, head)."""
        out = {f"vismem.{n}": p for n, p in self.named_parameters(recurse=True) if not n.startswith("peft.")}
        out.update({f"lora.{n}": p for n, p in self.model.named_parameters() if "lora_" in n})
        return out

    def set_trainable(self, lora: bool = True, builders: bool = True, invoke: bool = True) -> None:
        """Choose what trains: the formers' LoRA, the builders (+ special tokens, scales), the head."""
        for n, p in self.model.named_parameters():
            p.requires_grad_(lora and "lora_" in n)
        for m in (self.builders, self.special, self.formers):
            for p in m.parameters():
                p.requires_grad_(builders)
        for p in self.invoke.parameters():
            p.requires_grad_(invoke)
        self._lora_trainable = lora

    @contextmanager
    def adapter(self, kind: str | None):
        """Run the LM with the LoRA adapter ``kind`` (or none: the frozen base) inside the block."""
        lm = self.peft.base_model
        if kind is None:
            lm.disable_adapter_layers()
        else:
            lm.enable_adapter_layers()
            lm.set_adapter(kind)
        self._restore_lora_grad()
        try:
            yield
        finally:
            lm.disable_adapter_layers()
            self._restore_lora_grad()

    def _restore_lora_grad(self) -> None:
        # peft flips requires_grad of adapters it (de)activates; a leaf flipped off between forward and
        # backward would get no gradient, so every LoRA parameter is set back to what set_trainable chose.
        for n, p in self.model.named_parameters():
            if "lora_" in n:
                p.requires_grad_(self._lora_trainable)

    def _logits_hook(self, module, inputs, logits):
        h = inputs[0]
        out = logits.clone()
        s, l_ = self.id_of("<ms_I>"), self.id_of("<ml_I>")
        if self.invocation_enabled:
            inv = self.invoke(h.to(self.invoke.weight.dtype)).to(out.dtype)
            out[..., s], out[..., l_] = inv[..., 0], inv[..., 1]
        else:
            out[..., s] = out[..., l_] = float("-inf")
        out[..., self.id_of("<ms_E>")] = out[..., self.id_of("<ml_E>")] = float("-inf")
        return out

    def remove(self) -> None:
        """Detach the logits hook (the LoRA layers stay injected)."""
        self._hook.remove()

    # -- embeddings and memory ---------------------------------------------------------------
    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, L) ids -> (B, L, H) input embeddings, the special tokens from :attr:`special`."""
        base = self.model.get_input_embeddings()(input_ids)
        sid = torch.tensor([self.token_ids[t] for t in SPECIAL_TOKENS], device=input_ids.device)
        hit = input_ids[..., None] == sid  # (B, L, 4)
        if not bool(hit.any()):
            return base
        special = hit.to(base.dtype) @ self.special.weight.to(base.dtype)
        return torch.where(hit.any(-1, keepdim=True), special, base)

    def special_embeds(self, token: str, batch: int = 1) -> torch.Tensor:
        """(batch, 1, H) input embedding of one special token."""
        return self.special.weight[SPECIAL_TOKENS.index(token)][None, None].expand(batch, 1, -1)

    def form(self, kind: str, context: torch.Tensor, context_mask: torch.Tensor | None,
             vision: torch.Tensor | None, vision_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Memory tokens (B, n, H) of ``kind`` from the hidden states so far and the vision tokens."""
        if kind not in KINDS:
            raise InputError(f"memory kind must be one of {KINDS}, got {kind!r}")
        queries = self.builders[kind](context, context_mask)
        return self.formers[kind](queries, vision, vision_mask)

    def insert(self, embeds: torch.Tensor, mask: torch.Tensor, pos: int, kind: str,
               memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Insert ``[start, memory, end]`` after position ``pos`` of (B, L, H) ``embeds`` (+ (B, L) mask)."""
        B = embeds.shape[0]
        block = torch.cat([self.special_embeds(START[kind], B), memory, self.special_embeds(END[kind], B)], 1)
        ones = torch.ones(B, block.shape[1], dtype=mask.dtype, device=mask.device)
        return (torch.cat([embeds[:, :pos], block.to(embeds.dtype), embeds[:, pos:]], 1),
                torch.cat([mask[:, :pos], ones, mask[:, pos:]], 1))

    def base_forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor | None = None, **kw):
        """The frozen base model (no adapter) on ``inputs_embeds``, with hidden states."""
        reset_rope_state(self.model)
        with self.adapter(None):
            return self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                              output_hidden_states=True, **kw)

    # -- generation --------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, inputs_embeds: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                 vision: dict[str, torch.Tensor] | None = None, vision_mask: dict[str, torch.Tensor] | None = None,
                 max_new_tokens: int = 8, invoke: str = "auto", eos_token_id: int | None = None,
                 temperature: float = 0.0, generator: torch.Generator | None = None,
                 model_inputs: dict | None = None) -> GenerationResult:
        """Decode one sequence (batch 1) with memory insertion on invocation and the KV cache.

        Args:
            inputs_embeds: (1, L, H) prompt embeddings (see :meth:`embed`); or give ``model_inputs``
                (e.g. ``input_ids``, ``pixel_values``, ``image_grid_thw`` of a VLM processor).
            attention_mask: (1, L) prompt mask (zeros for padding tokens).
            vision: per memory kind, (1, N, H) vision tokens the former reads (may be absent).
            vision_mask: per kind, (1, N) bool real-token mask.
            max_new_tokens: generated positions (latent tokens count as one each).
            invoke: "auto" (the model decides), "never", or "short"/"long" (forced at the first step).
            eos_token_id: stop after this token (default: the tokenizer's eos).
            temperature: 0 for greedy, else sampling temperature.
        """
        if invoke not in ("auto", "never", *KINDS):
            raise InputError(f"invoke must be auto, never, short or long; got {invoke!r}")
        vision, vision_mask = vision or {}, vision_mask or {}
        eos = self.tokenizer.eos_token_id if eos_token_id is None else eos_token_id
        ck = cache_keyword(self.model)
        self.invocation_enabled = invoke == "auto"
        try:
            reset_rope_state(self.model)
            with self.adapter(None):
                if model_inputs is not None:
                    out = self.model(**model_inputs, output_hidden_states=True, use_cache=True)
                    mask = model_inputs.get("attention_mask")
                    L = out.hidden_states[-1].shape[1]
                else:
                    out = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                     output_hidden_states=True, use_cache=True)
                    mask = attention_mask
                    L = inputs_embeds.shape[1]
                mask = torch.ones(1, L, dtype=torch.long) if mask is None else mask.long()
                ctx = out.hidden_states[-1]
                tokens: list[int] = []
                invocations: list[tuple[str, int]] = []
                starts = {self.id_of(START[k]): k for k in KINDS}

                def feed(embeds):
                    nonlocal out, mask, ctx
                    kw = {ck: output_cache(out)}
                    pos = decode_position_ids(self.model, mask.shape[1], embeds.shape[1])
                    if pos is not None:
                        kw["position_ids"] = pos
                    mask = torch.cat([mask, torch.ones(1, embeds.shape[1], dtype=mask.dtype)], 1)
                    out = self.model(inputs_embeds=embeds, attention_mask=mask, output_hidden_states=True,
                                     use_cache=True, **kw)
                    ctx = torch.cat([ctx, out.hidden_states[-1]], 1)

                while len(tokens) < max_new_tokens:
                    if invoke in KINDS and not invocations:
                        tok = self.id_of(START[invoke])
                    else:
                        logits = out.logits[0, -1].float()
                        late = 0 < self.config.invoke_within <= len(tokens)
                        if late or len(invocations) >= self.config.max_invocations:
                            logits[list(starts)] = float("-inf")
                        if temperature > 0:
                            probs = torch.softmax(logits / temperature, -1)
                            tok = int(torch.multinomial(probs, 1, generator=generator))
                        else:
                            tok = int(logits.argmax())
                    if tok in starts:
                        kind = starts[tok]
                        invocations.append((kind, len(tokens)))
                        tokens.append(tok)
                        feed(self.special_embeds(START[kind]))
                        n = self.config.tokens(kind)
                        memory = self.form(kind, ctx, mask.bool(), vision.get(kind), vision_mask.get(kind))
                        tokens.extend([LATENT] * n + [self.id_of(END[kind])])
                        feed(torch.cat([memory, self.special_embeds(END[kind])], 1))
                        continue
                    tokens.append(tok)
                    if tok == eos:
                        break
                    feed(self.embed(torch.tensor([[tok]])))
        finally:
            self.invocation_enabled = True
        return GenerationResult(tuple(tokens), tuple(invocations))
