"""Loading learned models: a Hugging Face model id or a local folder, with errors that name the fix.

Every learned backend loads its models through :func:`load_pretrained`:

* ``model_dir`` (``--model-dir``) is a local folder holding either the model itself (``config.json``
  at its top) or one sub-folder per model, named like the id (``depth-anything--Depth-Anything-V2-...``,
  the id's last part, or ``org/name`` nested); nothing is fetched then;
* otherwise the model id goes to ``from_pretrained``, which reads the Hugging Face cache (``HF_HOME``,
  ``HF_HUB_CACHE``) and downloads what is missing unless offline (``HF_HUB_OFFLINE=1`` or the
  backend option ``offline``).

Missing weights raise :class:`~spatialmem.errors.ModelWeightsError` naming the model id and both ways
to provide it. torch and transformers are imported only inside these functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialmem.errors import ModelWeightsError, require_package

EXTRA = "learned"


@dataclass(frozen=True)
class LoadedModel:
    """A model (and optional processor) with where it came from.

    Attributes:
        model: the ``transformers`` model in eval mode, on its device.
        processor: its image/text processor (None when not asked for).
        model_id: the Hub id asked for.
        source: the local folder it was read from, or ``"hub"``.
        revision: the commit hash of the Hub snapshot when known, else the requested revision.
    """

    model: Any
    processor: Any
    model_id: str
    source: str
    revision: str | None

    def provenance(self) -> dict:
        return {"model_id": self.model_id, "source": self.source, "revision": self.revision}


def _candidates(model_dir: Path, model_id: str) -> list[Path]:
    last = model_id.rsplit("/", 1)[-1]
    return [model_dir / model_id.replace("/", "--"), model_dir / last, model_dir / model_id, model_dir]


def find_local(model_dir: str | os.PathLike, model_id: str) -> Path:
    """The folder under ``model_dir`` holding ``model_id`` (see the module docstring for the layouts).

    Raises:
        ModelWeightsError: when ``model_dir`` does not exist or holds no ``config.json`` for the model.
    """
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise ModelWeightsError(
            f"--model-dir {root} does not exist; point it at a folder holding {model_id} (saved with "
            f"save_pretrained or `hf download {model_id} --local-dir {root}/{model_id.replace('/', '--')}`)")
    for c in _candidates(root, model_id):
        if (c / "config.json").is_file():
            return c
    names = ", ".join(str(c.relative_to(root)) or "." for c in _candidates(root, model_id)[:-1])
    raise ModelWeightsError(
        f"no weights for {model_id} under --model-dir {root}: expected a config.json in one of {names} (or in "
        f"{root} itself); get them with `hf download {model_id} --local-dir {root}/{model_id.replace('/', '--')}`")


def is_offline(option: Any = None) -> bool:
    """Offline when the option says so, else when ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` is set."""
    if option is not None:
        return bool(option) and str(option).lower() not in ("0", "false", "no")
    flags = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in flags)


def weights_present(model_id: str) -> bool | None:
    """Whether ``model_id``'s config is in the local Hugging Face cache (None when that cannot be checked)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        return isinstance(try_to_load_from_cache(model_id, "config.json"), str)
    except Exception:  # noqa: BLE001 - a malformed id or cache: cannot tell
        return None


def pick_device(option: Any = None) -> str:
    """``option`` when given (``"cpu"``, ``"cuda"``, ``"cuda:1"``), else CUDA when available, else CPU."""
    if option:
        return str(option)
    torch = require_package("torch", EXTRA, "learned perception backends")
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_pretrained(model_cls: str, model_id: str, *, model_dir: str | None = None, revision: str | None = None,
                    processor_cls: str | None = None, offline: Any = None, device: str = "cpu",
                    purpose: str = "") -> LoadedModel:
    """Load ``transformers.<model_cls>`` (and ``transformers.<processor_cls>``) from a folder or the Hub.

    Args:
        model_cls: class name in ``transformers``, e.g. ``"AutoModelForDepthEstimation"``.
        model_id: Hub id, e.g. ``"depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf"``.
        model_dir: local folder (see :func:`find_local`); when given, nothing is fetched.
        revision: Hub branch, tag or commit (ignored for local folders).
        processor_cls: processor class name, or None for no processor.
        offline: never reach the network (default: from the environment, see :func:`is_offline`).
        device: torch device for the model.
        purpose: a few words for error messages (e.g. ``"the 'depth' geometry backend"``).

    Raises:
        MissingDependencyError: torch or transformers is not installed.
        ModelWeightsError: the weights are not in the folder, or not cached while offline / unreachable.
    """
    require_package("torch", EXTRA, purpose or model_id)
    transformers = require_package("transformers", EXTRA, purpose or model_id)
    local = find_local(model_dir, model_id) if model_dir else None
    where = str(local) if local is not None else model_id
    kw: dict[str, Any] = {}
    if local is None:
        kw = {"revision": revision, "local_files_only": is_offline(offline)}
    try:
        model = getattr(transformers, model_cls).from_pretrained(where, **kw)
        processor = getattr(transformers, processor_cls).from_pretrained(where, **kw) if processor_cls else None
    except OSError as exc:  # transformers reports missing files and unreachable hubs as OSError subclasses
        if local is not None:
            raise ModelWeightsError(f"cannot load {model_id} from {local}: {exc}") from None
        for_what = f" for {purpose}" if purpose else ""
        raise ModelWeightsError(
            f"the weights of {model_id}{for_what} are not in the Hugging Face cache "
            f"({os.environ.get('HF_HOME') or '~/.cache/huggingface'}) and could not be downloaded"
            f"{' (offline mode)' if kw.get('local_files_only') else ''}. Download them where there is network "
            f"(`hf download {model_id}`) and set HF_HOME to that cache, or save them into a folder and pass "
            "--model-dir FOLDER") from None
    model = model.to(device).eval()
    rev = getattr(getattr(model, "config", None), "_commit_hash", None) or revision
    return LoadedModel(model, processor, model_id, str(local) if local is not None else "hub", rev)


def library_versions() -> dict[str, str]:
    """Versions of the libraries perception may use (only those installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("spatialmem", "numpy", "scipy", "torch", "transformers", "huggingface_hub", "pycolmap", "av"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
