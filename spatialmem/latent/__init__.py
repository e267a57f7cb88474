"""Latent memory inside the model (needs the ``latent`` extra: torch, transformers, peft, safetensors).

Two designs (docs/latent.md):

* :mod:`spatialmem.latent.dual_memory` — a token-level dual memory (working window + episodic
  slots) that keeps a VLM's visual context at a fixed size on long streams (after VLM², 2025).
* :mod:`spatialmem.latent.vismem` — latent vision memory invoked during generation: special
  tokens, query builders and LoRA memory formers for Hugging Face (V)LMs (after VisMem, 2025),
  trained by :mod:`spatialmem.latent.train` (Stage I formation, Stage II invocation).

:mod:`spatialmem.latent.data` (numpy only) builds the streaming episodes from the synthetic world.
This ``__init__`` imports nothing heavy; import torch-using modules only after
:func:`require_latent` has checked the extra is installed.
"""

from __future__ import annotations


def require_latent(purpose: str = "latent memory") -> None:
    """Raise :class:`~spatialmem.errors.MissingDependencyError` naming ``spatialmem[latent]`` if absent."""
    from spatialmem.errors import require_package

    for module in ("torch", "transformers", "peft", "safetensors"):
        require_package(module, "latent", purpose)
