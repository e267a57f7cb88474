"""Hugging Face glue: loading a (V)LM offline, its text decoder, the KV-cache keyword, tiny models.

Nothing here edits model code: the latent memories use only public entry points
(``get_input_embeddings``, ``get_output_embeddings``, ``get_decoder``, ``forward(inputs_embeds=...)``)
and forward hooks. :func:`tiny_model` builds small randomly initialised models of the real classes
(Qwen2-VL, Qwen2.5-VL, LLaVA, Llama) for tests and the CPU benchmark; nothing is downloaded.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import torch
from torch import nn

from spatialmem.errors import InputError

TINY_KINDS = ("qwen2-vl", "qwen2.5-vl", "llava", "llama")


def text_config(model):
    """The config of the language part (a VLM's ``text_config``, or the model's own config)."""
    cfg = model.config
    return cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg


def hidden_size(model) -> int:
    """Hidden size H of the language model."""
    return int(text_config(model).hidden_size)


def text_decoder(model) -> nn.Module:
    """The decoder stack that maps ``inputs_embeds`` (B, L, H) to ``last_hidden_state`` (B, L, H)."""
    dec = model.get_decoder() if hasattr(model, "get_decoder") else None
    if dec is None or dec is model:
        raise InputError(f"{type(model).__name__} exposes no text decoder (get_decoder()); "
                         "use a causal LM or a VLM of the Hugging Face transformers library")
    return dec


def cache_keyword(model) -> str:
    """The forward keyword of the KV cache: ``cache`` (transformers >= 5.2x) or ``past_key_values``."""
    params = inspect.signature(type(model).forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def output_cache(out):
    """The KV cache of a forward output, whichever attribute this transformers version uses."""
    c = getattr(out, "cache", None)
    return c if c is not None else out.past_key_values


def _rope_owner(model):
    inner = getattr(model, "model", None)
    return inner if inner is not None and hasattr(inner, "rope_deltas") else None


def reset_rope_state(model) -> None:
    """Forget the M-RoPE offsets a Qwen-VL model keeps from its last multimodal prefill (no-op otherwise)."""
    owner = _rope_owner(model)
    if owner is not None:
        owner.rope_deltas = None


def decode_position_ids(model, cache_length: int, n: int) -> torch.Tensor | None:
    """(3, B, n) M-RoPE position ids of ``n`` tokens appended after ``cache_length`` cached ones.

    Only for models that keep ``rope_deltas`` from a multimodal prefill (Qwen2-VL / Qwen2.5-VL);
    None otherwise (the model derives positions from its cache). Passing them explicitly keeps the
    positions right when the attention mask is given with the cache.
    """
    owner = _rope_owner(model)
    deltas = None if owner is None else owner.rope_deltas
    if deltas is None:
        return None
    pos = torch.arange(cache_length, cache_length + n, device=deltas.device).view(1, 1, -1)
    return (pos + deltas.view(1, -1, 1)).expand(3, deltas.shape[0], n)


def load_model(path: str | os.PathLike, dtype: torch.dtype = torch.float32):
    """Load a causal LM or VLM and its tokenizer from a local folder or a hub model id.

    A folder is loaded offline (``local_files_only``). VLMs are tried with ``AutoModelForImageTextToText``
    first, causal LMs with ``AutoModelForCausalLM``.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    local = Path(path).is_dir()
    kw = {"local_files_only": True} if local else {}
    try:
        config = AutoConfig.from_pretrained(str(path), **kw)
    except OSError as exc:
        raise InputError(f"cannot load a model config from {path!r} ({exc}); give a local model folder "
                         "(save_pretrained) or a model id your machine can download") from exc
    if hasattr(config, "text_config") and getattr(config, "vision_config", None) is not None:
        from transformers import AutoModelForImageTextToText as Auto
    else:
        Auto = AutoModelForCausalLM
    model = Auto.from_pretrained(str(path), dtype=dtype, **kw)
    tokenizer = AutoTokenizer.from_pretrained(str(path), **kw)
    return model, tokenizer


def word_tokenizer(words: list[str]):
    """A word-level fast tokenizer over ``words`` (+ <pad>, <unk>, <s>, </s>), for toy LMs and tests."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(words) - set(specials)))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>")


def tiny_model(kind: str, vocab_size: int, hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0):
    """A small randomly initialised model of a real transformers class.

    Args:
        kind: one of :data:`TINY_KINDS`.
        vocab_size: rows of the embedding table.
        hidden: hidden size H (a multiple of ``heads``; ``hidden / heads`` even).
        layers: decoder layers.
        heads: attention heads (key/value heads: half of them).
        seed: seed of the initialisation.
    """
    import transformers as tf

    torch.manual_seed(seed)
    head_dim = hidden // heads
    text = dict(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                num_attention_heads=heads, num_key_value_heads=max(1, heads // 2), max_position_embeddings=2048,
                bos_token_id=None, eos_token_id=None, pad_token_id=None)
    if kind in ("qwen2-vl", "qwen2.5-vl"):
        q = head_dim // 2
        rope = {"type": "mrope", "rope_type": "default", "mrope_section": [q - 2 * (q // 4), q // 4, q // 4]}
        vision = dict(depth=1, hidden_size=hidden, num_heads=2, in_chans=3, patch_size=14, spatial_merge_size=2,
                      temporal_patch_size=2)
        if kind == "qwen2-vl":
            vision.update(embed_dim=32)
            cfg = tf.Qwen2VLConfig(text_config=dict(text, rope_scaling=rope), vision_config=vision,
                                   image_token_id=vocab_size - 1, video_token_id=vocab_size - 2,
                                   vision_start_token_id=vocab_size - 3)
            return tf.Qwen2VLForConditionalGeneration(cfg).eval()
        vision.update(intermediate_size=2 * hidden, out_hidden_size=hidden, fullatt_block_indexes=[0])
        cfg = tf.Qwen2_5_VLConfig(text_config=dict(text, rope_scaling=rope), vision_config=vision,
                                  image_token_id=vocab_size - 1, video_token_id=vocab_size - 2,
                                  vision_start_token_id=vocab_size - 3)
        return tf.Qwen2_5_VLForConditionalGeneration(cfg).eval()
    if kind == "llava":
        cfg = tf.LlavaConfig(text_config=dict(text, model_type="llama"),
                             vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64,
                                                num_hidden_layers=1, num_attention_heads=2, image_size=28,
                                                patch_size=14),
                             image_token_index=vocab_size - 1)
        return tf.LlavaForConditionalGeneration(cfg).eval()
    if kind == "llama":
        return tf.LlamaForCausalLM(tf.LlamaConfig(**text)).eval()
    raise InputError(f"unknown tiny model kind {kind!r}; choose one of {', '.join(TINY_KINDS)}")
