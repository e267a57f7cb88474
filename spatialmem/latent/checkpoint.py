"""Resumable training checkpoints in safetensors: parameters, optimizer state, step, loss log.

A stage folder holds ``checkpoint.safetensors`` (named parameters + the optimizer's tensors under
``optim.<param index>.<key>``), ``state.json`` (step, seed, param groups) and ``loss.jsonl`` (one
``{"step", "loss", ...}`` line per logged step). Files are written to a temporary name, then renamed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from spatialmem.errors import StoreError


class Checkpointer:
    """Save / restore one stage's training state in ``folder``."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    @property
    def exists(self) -> bool:
        return (self.folder / "state.json").is_file() and (self.folder / "checkpoint.safetensors").is_file()

    def save(self, step: int, params: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
             extra: dict | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tensors = {f"param.{k}": v.detach().contiguous().clone() for k, v in params.items()}
        sd = optimizer.state_dict()
        for idx, st in sd["state"].items():
            for k, v in st.items():
                t = v if torch.is_tensor(v) else torch.tensor(v)
                tensors[f"optim.{idx}.{k}"] = t.detach().contiguous().clone()
        tmp = self.folder / "checkpoint.safetensors.tmp"
        save_file(tensors, str(tmp))
        os.replace(tmp, self.folder / "checkpoint.safetensors")
        state = {"step": int(step), "param_groups": sd["param_groups"], **(extra or {})}
        tmp = self.folder / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=1) + "\n")
        os.replace(tmp, self.folder / "state.json")

    def load(self, params: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer) -> int:
        """Copy the saved values into ``params`` (in place) and the optimizer; return the saved step."""
        try:
            state = json.loads((self.folder / "state.json").read_text())
            tensors = load_file(str(self.folder / "checkpoint.safetensors"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.folder}: unreadable checkpoint ({exc}); delete the folder to start over") from exc
        missing = [k for k in params if f"param.{k}" not in tensors]
        if missing:
            raise StoreError(f"{self.folder}: checkpoint lacks {len(missing)} parameter(s) (e.g. {missing[0]}); "
                             "it was written by a different configuration: delete it or use another out folder")
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(tensors[f"param.{k}"])
        opt_state: dict[int, dict] = {}
        for key, v in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                opt_state.setdefault(int(idx), {})[name] = v
        optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
        return int(state["step"])

    def log(self, record: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "loss.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_log(self, step: int) -> None:
        """Drop log lines after ``step`` (a resumed run rewrites them)."""
        p = self.folder / "loss.jsonl"
        if p.is_file():
            keep = [ln for ln in p.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= step]
            p.write_text("".join(ln + "\n" for ln in keep))
