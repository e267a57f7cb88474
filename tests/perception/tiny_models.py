"""Tiny randomly initialised ``transformers`` models saved with ``save_pretrained``, for offline tests.

Not a test module: the learned-backend tests load it by path. Every model is a few hundred kilobytes,
built from a config (no download), and saved to a folder in the layout ``--model-dir`` expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import (
    CLIPTokenizer,
    DepthAnythingConfig,
    DepthAnythingForDepthEstimation,
    Dinov2Config,
    DPTImageProcessor,
    Owlv2Config,
    Owlv2ForObjectDetection,
    Owlv2ImageProcessor,
    Owlv2Processor,
    SamConfig,
    SamImageProcessor,
    SamModel,
    SamProcessor,
)


def save_depth(folder: Path, kind: str = "metric") -> Path:
    """A Depth Anything (V2 layout) model with a 2-layer DINOv2 backbone, input 28x28."""
    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                            image_size=28, patch_size=14, out_features=["stage1", "stage2"], out_indices=[1, 2],
                            reshape_hidden_states=False, apply_layernorm=True)
    cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[8, 16],
                              fusion_hidden_size=8, head_hidden_size=8, depth_estimation_type=kind, max_depth=10,
                              reassemble_factors=[2, 1])
    DepthAnythingForDepthEstimation(cfg).save_pretrained(folder)
    DPTImageProcessor(size={"height": 28, "width": 28}, keep_aspect_ratio=True, ensure_multiple_of=14,
                      do_pad=False).save_pretrained(folder)
    return folder


def _tokenizer(folder: Path) -> CLIPTokenizer:
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16)


def save_owlv2(folder: Path) -> Path:
    """An OWLv2 detector with one-layer text and vision towers, input 32x32 (16 box queries)."""
    torch.manual_seed(0)
    tok = _tokenizer(folder / "_tok")
    text = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                vocab_size=len(tok.get_vocab()), max_position_embeddings=16, bos_token_id=0, eos_token_id=1,
                pad_token_id=1)
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32,
                  patch_size=8)
    Owlv2ForObjectDetection(Owlv2Config(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(
        folder)
    Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 32, "width": 32}), tokenizer=tok
                   ).save_pretrained(folder)
    return folder


def save_sam(folder: Path) -> Path:
    """A SAM with a one-layer ViT image encoder, input 64x64, masks 16x16."""
    torch.manual_seed(0)
    cfg = SamConfig(
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                           image_size=64, patch_size=16, output_channels=8, window_size=2, global_attn_indexes=[0],
                           mlp_dim=32, num_pos_feats=4),
        prompt_encoder_config=dict(hidden_size=8, image_size=64, patch_size=16, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, mlp_dim=16,
                                 iou_head_hidden_dim=8))
    SamModel(cfg).save_pretrained(folder)
    SamProcessor(image_processor=SamImageProcessor(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64},
                                                   mask_size={"longest_edge": 16},
                                                   mask_pad_size={"height": 16, "width": 16})).save_pretrained(folder)
    return folder
