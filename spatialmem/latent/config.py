"""Training configuration of the latent trainers (one TOML or JSON file; see docs/latent.md).

Example (TOML)::

    seed = 0
    out = "runs/latent"            # stage folders are written under it
    [data]
    train = "runs/latent-data/train"
    test = "runs/latent-data/test"
    [model]
    base = "tiny"                  # "tiny": stage 0 trains a small Llama; else a local folder or model id
    [stage1]
    steps = 400
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from spatialmem.errors import InputError
from spatialmem.latent.rewards import RewardConfig


@dataclass(frozen=True)
class StageConfig:
    """Optimisation of one stage: steps, batch size, learning rate, checkpoint and log cadence."""

    steps: int = 300
    batch_size: int = 16
    lr: float = 1e-3
    save_every: int = 100
    log_every: int = 10


@dataclass(frozen=True)
class ModelConfig:
    """The base model: ``base`` "tiny" (built and trained by stage 0) or a folder / model id."""

    base: str = "tiny"
    kind: str = "llama"
    hidden: int = 64
    layers: int = 2
    heads: int = 4


@dataclass(frozen=True)
class Stage2Config(StageConfig):
    """Stage II: GRPO group size, reward penalties, questions used."""

    group_size: int = 8
    questions: int = 400
    rewards: RewardConfig = field(default_factory=RewardConfig)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a ``spatialmem latent train`` run reads from its config file."""

    out: str = "runs/latent"
    seed: int = 0
    train_data: str = ""
    test_data: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    window: int = 8
    slots: int = 32
    dim: int = 64
    short_tokens: int = 8
    long_tokens: int = 16
    lora_rank: int = 16
    oracle_fraction: float = 0.7
    stage0: StageConfig = field(default_factory=lambda: StageConfig(steps=800, batch_size=32, lr=3e-3))
    stage1: StageConfig = field(default_factory=lambda: StageConfig(steps=400, batch_size=16, lr=1e-3))
    stage2: Stage2Config = field(default_factory=lambda: Stage2Config(steps=200, batch_size=32, lr=0.05))

    def stage(self, n: int) -> StageConfig:
        return (self.stage0, self.stage1, self.stage2)[n]


def _build(cls, d: dict, where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    kw = {}
    for k, v in d.items():
        default = getattr(cls(), k)
        if hasattr(default, "__dataclass_fields__"):
            kw[k] = _build(type(default), dict(v), f"{where}.{k}")
        else:
            kw[k] = type(default)(v) if isinstance(default, (int, float, str)) and not isinstance(default, bool) else v
    return replace(cls(), **kw) if kw else cls()


def load_config(path: str | Path) -> TrainConfig:
    """Read a TOML (``.toml``) or JSON config; ``[data] train/test`` map to ``train_data/test_data``.

    Raises:
        InputError: the file is missing, unparsable, or has an unknown key (named in the message).
    """
    p = Path(path)
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = None
    if p.suffix == ".toml" and tomllib is None:
        raise InputError(f"{p}: TOML configs need Python >= 3.11; write the same keys as JSON instead")
    try:
        text = p.read_text()
        d = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except OSError as exc:
        raise InputError(f"cannot read config {p}: {exc}") from exc
    except (ValueError, json.JSONDecodeError) as exc:
        raise InputError(f"config {p} is not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}") from exc
    data = d.pop("data", {})
    if "train" in data:
        d["train_data"] = data.pop("train")
    if "test" in data:
        d["test_data"] = data.pop("test")
    if data:
        raise InputError(f"{p} [data]: unknown key(s) {', '.join(sorted(data))}; allowed: train, test")
    try:
        cfg = _build(TrainConfig, d, str(p))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{p}: bad value ({exc})") from exc
    if not cfg.train_data:
        raise InputError(f"{p}: set [data] train = \"FOLDER\" (episodes from `spatialmem latent dataset`)")
    return cfg
