"""Trainers and CLI: seeded and resumable checkpoints, both formers train, Stage II trains the head."""

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from spatialmem.cli import main
from spatialmem.latent.config import load_config
from spatialmem.latent.data import write_dataset
from spatialmem.latent.train import run_stage


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("latent") / "train"
    write_dataset(d, [1, 2], num_frames=24, window=4)
    return d


def _config(tmp_path, data_dir, **stage0):
    cfg = {"seed": 3, "out": str(tmp_path / "run"), "window": 4, "slots": 8, "dim": 16,
           "data": {"train": str(data_dir)}, "model": {"hidden": 32, "layers": 1, "heads": 2},
           "stage0": {"steps": 4, "batch_size": 4, "save_every": 2, "log_every": 1, **stage0},
           "stage1": {"steps": 2, "batch_size": 64, "save_every": 1, "log_every": 1},
           "stage2": {"steps": 3, "batch_size": 4, "group_size": 4, "questions": 6, "log_every": 1}}
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps(cfg))
    return p


def test_stage0_resume_equals_uninterrupted_run(tmp_path, data_dir):
    torch.set_num_threads(1)
    full = load_config(_config(tmp_path / "a", data_dir))
    run_stage(full, 0)
    part = load_config(_config(tmp_path / "b", data_dir, steps=2))
    run_stage(part, 0)
    resumed = load_config(_config(tmp_path / "b", data_dir))
    run_stage(resumed, 0)
    a = load_file(str(tmp_path / "a/run/stage0/checkpoint.safetensors"))
    b = load_file(str(tmp_path / "b/run/stage0/checkpoint.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    log = [json.loads(x) for x in (tmp_path / "b/run/stage0/loss.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert (tmp_path / "a/run/stage0/base/config.json").is_file()


def test_stage1_trains_both_formers_and_stage2_the_head(tmp_path, data_dir):
    torch.set_num_threads(1)
    cfg = load_config(_config(tmp_path, data_dir))
    run_stage(cfg, 0)
    run_stage(cfg, 1)
    s1 = load_file(str(tmp_path / "run/stage1/vismem.safetensors"))
    for kind in ("short", "long"):
        lora_b = [v for k, v in s1.items() if f"lora_B.{kind}" in k]
        assert lora_b and any(v.abs().sum() > 0 for v in lora_b)  # LoRA B starts at zero
    run_stage(cfg, 2)
    s2 = load_file(str(tmp_path / "run/stage2/vismem.safetensors"))
    assert not torch.equal(s1["vismem.invoke.weight"], s2["vismem.invoke.weight"])
    frozen = [k for k in s1 if "lora_" in k or "builders" in k]
    assert frozen and all(torch.equal(s1[k], s2[k]) for k in frozen)  # Stage II leaves the formers alone
    rollouts = json.loads((tmp_path / "run/stage2/rollouts.json").read_text())["correct"]
    assert len(rollouts) == 6 and all(len(r) == 3 for r in rollouts)


def test_cli_reports_bad_config(tmp_path, capsys):
    assert main(["latent", "train", "--stage", "1", "--config", str(tmp_path / "missing.toml")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"data": {"train": "x"}, "stage1": {"stpes": 3}}))
    assert main(["latent", "train", "--stage", "1", "--config", str(bad)]) == 2
    assert "stpes" in capsys.readouterr().err


def test_cli_names_the_extra_when_torch_is_missing(tmp_path):
    code = ("import sys; sys.modules['torch'] = None; from spatialmem.cli import main; "
            f"sys.exit(main(['latent', 'train', '--stage', '1', '--config', {str(tmp_path / 'c.json')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 3
    assert "spatialmem[latent]" in r.stderr


def test_nothing_outside_latent_imports_torch_at_module_level():
    import ast
    from pathlib import Path

    import spatialmem

    root = Path(spatialmem.__file__).parent
    offenders = []
    for f in root.rglob("*.py"):
        if "latent" in f.relative_to(root).parts[:1]:
            continue
        for node in ast.parse(f.read_text()).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("torch", "transformers", "peft") or n.startswith("spatialmem.latent.")
                   for n in names):
                offenders.append(str(f))
    assert offenders == []
