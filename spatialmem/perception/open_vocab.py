"""The ``open-vocab`` instance backend: an open-vocabulary detector prompted with a vocabulary, SAM masks.

Default models: ``google/owlv2-base-patch16-ensemble`` (OWLv2 detector) and ``facebook/sam-vit-base``
(SAM, one mask per box). Per batch of frames:

1. the detector scores every predicted box against one text prompt per category
   (``prompt_template``, default ``"a photo of a {}"``); a box keeps its best category when the
   score reaches that category's threshold (``thresholds``, else ``threshold``);
2. class-aware non-maximum suppression (``nms_iou``) removes duplicates;
3. SAM turns each kept box into a mask (the image encoder runs once per batch); with
   ``segmenter="none"`` the box itself is the mask;
4. each :class:`~spatialmem.types.Detection2D` keeps the detector's L2-normalised embedding of its
   box (the vector OWLv2 compares with the text prompts), so association can compare appearances
   and :meth:`OpenVocabInstances.category_of` can look a feature up against the vocabulary.

Only frames whose index is a multiple of ``stride`` are run (keyframes); the others give no detection.
Options: ``detector``, ``segmenter`` (Hub ids or ``"none"``), ``model_dir``, ``revision``, ``device``,
``offline``, ``vocabulary`` (a list of categories or a file, see :func:`read_vocabulary`),
``threshold`` (0.2), ``thresholds`` ({category: score}), ``nms_iou`` (0.5), ``stride`` (1),
``batch_size`` (4), ``prompt_template``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.errors import InputError
from spatialmem.perception.base import InstancesConfig
from spatialmem.perception.hub import load_pretrained, pick_device
from spatialmem.types import Detection2D, Frame

DEFAULT_DETECTOR = "google/owlv2-base-patch16-ensemble"
DEFAULT_SEGMENTER = "facebook/sam-vit-base"


def default_vocabulary() -> tuple[str, ...]:
    """The indoor categories of the synthetic world (also those VSI-Bench asks about)."""
    from spatialmem.synth.catalog import CATEGORIES

    return CATEGORIES


def read_vocabulary(value: Any) -> tuple[tuple[str, ...], dict[str, float]]:
    """Categories and per-category thresholds from a list or a text file.

    A file has one category per line, optionally ``category: threshold``; ``#`` starts a comment.

    Raises:
        InputError: naming the file or line when it cannot be read or a threshold is not in (0, 1].
    """
    if value is None:
        return default_vocabulary(), {}
    if isinstance(value, (list, tuple)):
        lines, where = [str(v) for v in value], "vocabulary"
    else:
        path = Path(value)
        try:
            lines, where = path.read_text(encoding="utf-8").splitlines(), str(path)
        except OSError as exc:
            raise InputError(f"--vocabulary {path}: cannot read it ({exc.strerror or exc})") from None
    cats: list[str] = []
    thresholds: dict[str, float] = {}
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, thr = line.partition(":")
        name = " ".join(name.lower().split())
        if thr.strip():
            try:
                t = float(thr)
            except ValueError:
                t = -1.0
            if not 0 < t <= 1:
                raise InputError(f"{where} line {n}: threshold {thr.strip()!r} must be a number in (0, 1]")
            thresholds[name] = t
        if name and name not in cats:
            cats.append(name)
    if not cats:
        raise InputError(f"{where}: no categories; write one category per line")
    return tuple(cats), thresholds


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of (N, 4) and (M, 4) boxes ``x0, y0, x1, y1`` in pixels."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by class-aware non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    for i in order:
        if keep:
            same = [k for k in keep if labels[k] == labels[i]]
            if same and box_iou(boxes[i:i + 1], boxes[same]).max() > iou:
                continue
        keep.append(int(i))
    return np.asarray(keep, dtype=np.int64)


class OpenVocabInstances:
    """Open-vocabulary detection + SAM masks (see the module docstring)."""

    def __init__(self, config: InstancesConfig | None = None) -> None:
        self.config = cfg = config or InstancesConfig(name="open-vocab")
        o: Mapping[str, Any] = cfg.options
        vocab, file_thresholds = read_vocabulary(o.get("vocabulary"))
        ignore = {c.strip().lower() for c in cfg.ignore_categories}
        self.vocabulary = tuple(c for c in vocab if c not in ignore)
        if not self.vocabulary:
            raise InputError("the vocabulary has only ignored categories (wall, floor, ...); add object categories")
        default_thr = float(o.get("threshold", 0.2))
        thr = {**file_thresholds, **{str(k).lower(): float(v) for k, v in dict(o.get("thresholds", {})).items()}}
        self.thresholds = np.array([thr.get(c, default_thr) for c in self.vocabulary], np.float32)
        self.nms_iou = float(o.get("nms_iou", 0.5))
        self.stride = max(1, int(o.get("stride", 1)))
        self.batch_size = max(1, int(o.get("batch_size", 4)))
        self.template = str(o.get("prompt_template", "a photo of a {}"))
        self.device = pick_device(o.get("device"))
        common = dict(model_dir=o.get("model_dir"), revision=o.get("revision"), offline=o.get("offline"),
                      device=self.device)
        self.detector_id = str(o.get("detector") or DEFAULT_DETECTOR)
        self.det = load_pretrained("AutoModelForZeroShotObjectDetection", self.detector_id,
                                   processor_cls="AutoProcessor", purpose="the 'open-vocab' instance backend", **common)
        self.segmenter_id = str(o.get("segmenter") or DEFAULT_SEGMENTER)
        self.sam = None if self.segmenter_id == "none" else load_pretrained(
            "SamModel", self.segmenter_id, processor_cls="SamProcessor", purpose="the 'open-vocab' SAM masks", **common)
        self._padded_square = getattr(self.det.model.config, "model_type", "") == "owlv2"
        self._text_features: np.ndarray | None = None

    @classmethod
    def required_models(cls) -> list[str]:
        """Model ids loaded with default options."""
        return [DEFAULT_DETECTOR, DEFAULT_SEGMENTER]

    def provenance(self) -> dict:
        models = [self.det.provenance()] + ([self.sam.provenance()] if self.sam is not None else [])
        return {"models": models, "vocabulary": list(self.vocabulary), "device": self.device,
                "thresholds": dict(zip(self.vocabulary, map(float, self.thresholds), strict=True)),
                "nms_iou": self.nms_iou, "stride": self.stride}

    # ------------------------------------------------------------------ detection
    def detect(self, frame: Frame) -> list[Detection2D]:
        return self.detect_batch([frame])[0]

    def detect_batch(self, frames: Sequence[Frame]) -> list[list[Detection2D]]:
        """Detections of several frames; the models run on up to ``batch_size`` keyframes at a time."""
        out: list[list[Detection2D]] = [[] for _ in frames]
        todo = [k for k, f in enumerate(frames) if f.index % self.stride == 0]
        for s in range(0, len(todo), self.batch_size):
            chunk = todo[s:s + self.batch_size]
            for k, dets in zip(chunk, self._run([frames[k] for k in chunk]), strict=True):
                out[k] = dets
        return out

    def _run(self, frames: list[Frame]) -> list[list[Detection2D]]:
        import torch

        images = [f.rgb for f in frames]
        prompts = [self.template.format(c) for c in self.vocabulary]
        inputs = self.det.processor(text=[prompts] * len(images), images=images, truncation=True,
                                    return_tensors="pt").to(self.device)
        with torch.inference_mode():
            res = self.det.model(**inputs)
        probs = torch.sigmoid(res.logits).float().cpu().numpy()  # (B, Q, C)
        boxes_n = res.pred_boxes.float().cpu().numpy()  # (B, Q, 4) cx, cy, w, h normalised
        embeds = res.class_embeds.float().cpu().numpy()  # (B, Q, D)
        kept = [self._select(img.shape[:2], probs[b], boxes_n[b]) for b, img in enumerate(images)]
        masks = self._masks(images, [k[0] for k in kept])
        out = []
        for b, f in enumerate(frames):
            boxes, idx, labels, scores = kept[b]
            dets = []
            for j in range(len(idx)):
                m = masks[b][j]
                if int(m.sum()) < max(1, self.config.min_pixels):
                    continue
                e = embeds[b, idx[j]]
                e = (e / max(float(np.linalg.norm(e)), 1e-12)).astype(np.float32)
                dets.append(Detection2D(f.index, self.vocabulary[labels[j]], m, float(scores[j]), e))
            out.append(dets)
        return out

    def _select(self, hw: tuple[int, int], probs: np.ndarray, boxes_n: np.ndarray):
        h, w = hw
        labels = probs.argmax(axis=1)
        scores = probs[np.arange(len(labels)), labels]
        ok = np.nonzero(scores >= self.thresholds[labels])[0]
        sx, sy = (max(h, w), max(h, w)) if self._padded_square else (w, h)
        cx, cy, bw, bh = (boxes_n[ok, i] for i in range(4))
        boxes = np.stack([(cx - bw / 2) * sx, (cy - bh / 2) * sy, (cx + bw / 2) * sx, (cy + bh / 2) * sy], axis=1)
        boxes = np.clip(boxes, 0, [w, h, w, h]).astype(np.float64) if len(ok) else np.zeros((0, 4))
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        good = area > 1.0
        ok, boxes = ok[good], boxes[good]
        keep = nms(boxes, scores[ok], labels[ok], self.nms_iou)
        return boxes[keep], ok[keep], labels[ok][keep], scores[ok][keep]

    def _masks(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[list[np.ndarray]]:
        """One (H, W) bool mask per box of each image: SAM's, or the filled box without a segmenter."""
        if self.sam is None or all(len(b) == 0 for b in boxes):
            return [[_box_mask(img.shape[:2], bx) for bx in bb] for img, bb in zip(images, boxes, strict=True)]
        import torch

        proc, model = self.sam.processor, self.sam.model
        enc = proc(images=images, return_tensors="pt")
        with torch.inference_mode():
            emb = model.get_image_embeddings(enc["pixel_values"].to(self.device))
        out = []
        for b, (img, bb) in enumerate(zip(images, boxes, strict=True)):
            if len(bb) == 0:
                out.append([])
                continue
            h, w = img.shape[:2]
            rh, rw = (int(v) for v in enc["reshaped_input_sizes"][b])
            scaled = torch.as_tensor(bb * np.array([rw / w, rh / h, rw / w, rh / h]), dtype=torch.float32)
            with torch.inference_mode():
                pm = model(image_embeddings=emb[b:b + 1], input_boxes=scaled[None].to(self.device),
                           multimask_output=False).pred_masks
            ms = proc.post_process_masks(pm.cpu(), enc["original_sizes"][b:b + 1], enc["reshaped_input_sizes"][b:b + 1])
            out.append([np.asarray(m[0], bool) for m in ms[0]])
        return out

    # ------------------------------------------------------------------ category look-up
    def text_features(self) -> np.ndarray:
        """(C, D) L2-normalised embeddings of the vocabulary prompts, in the space of the detections' features."""
        if self._text_features is None:
            import torch

            tok = self.det.processor(text=[self.template.format(c) for c in self.vocabulary], truncation=True,
                                    return_tensors="pt")
            tok = {k: v.to(self.device) for k, v in tok.items() if k in ("input_ids", "attention_mask")}
            with torch.inference_mode():
                t = self.det.model.owlv2.get_text_features(**tok) if self._padded_square else \
                    self.det.model.owlvit.get_text_features(**tok)
            t = getattr(t, "pooler_output", t).float().cpu().numpy()
            self._text_features = (t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        return self._text_features

    def category_of(self, feature: np.ndarray) -> tuple[str, float]:
        """The vocabulary category whose prompt embedding is most similar to ``feature``, and that cosine."""
        sims = self.text_features() @ (np.asarray(feature, np.float32) / max(float(np.linalg.norm(feature)), 1e-12))
        k = int(np.argmax(sims))
        return self.vocabulary[k], float(sims[k])


def _box_mask(hw: tuple[int, int], box: np.ndarray) -> np.ndarray:
    m = np.zeros(hw, bool)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    m[y0:y1, x0:x1] = True
    return m
