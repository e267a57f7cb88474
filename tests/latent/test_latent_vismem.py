"""VisMem on tiny random Qwen2-VL / Qwen2.5-VL / LLaVA models saved to a folder and loaded offline."""

import pytest
import torch

from spatialmem.latent.hf import load_model, tiny_model, word_tokenizer
from spatialmem.latent.vismem import LATENT, SPECIAL_TOKENS, QueryBuilder, VisMem, VisMemConfig

WORDS = ["how", "many", "chair", "1", "2", ":"]
CFG = VisMemConfig(short_tokens=8, long_tokens=16, seed=1)


@pytest.fixture(scope="module", params=["qwen2-vl", "qwen2.5-vl", "llava"])
def vlm_dir(request, tmp_path_factory):
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp(request.param.replace(".", ""))
    tiny_model(request.param, vocab_size=64, hidden=64, layers=2, heads=8).save_pretrained(d)
    word_tokenizer(WORDS).save_pretrained(d)
    return d


def _vismem(folder):
    model, tok = load_model(folder)  # offline: local_files_only
    return VisMem(model, tok, CFG)


def _inputs(vm):
    g = torch.Generator().manual_seed(0)
    ids = torch.tensor([vm.tokenizer("how many chair :").input_ids])
    vision = {"short": torch.randn(1, 5, 64, generator=g), "long": torch.randn(1, 7, 64, generator=g)}
    vmask = {"short": torch.tensor([[1, 1, 1, 0, 0]], dtype=torch.bool), "long": torch.ones(1, 7, dtype=torch.bool)}
    return vm.embed(ids), vision, vmask


def test_special_tokens_added_and_embeddings_fit(vlm_dir):
    vm = _vismem(vlm_dir)
    ids = [vm.id_of(t) for t in SPECIAL_TOKENS]
    assert len(set(ids)) == 4
    assert vm.tokenizer.convert_ids_to_tokens(ids) == list(SPECIAL_TOKENS)
    assert max(ids) < vm.model.get_input_embeddings().num_embeddings
    assert vm.model.get_output_embeddings().out_features > max(ids)


@pytest.mark.parametrize("kind, n, end", [("short", 8, "<ms_E>"), ("long", 16, "<ml_E>")])
def test_generate_inserts_memory_then_end_token(vlm_dir, kind, n, end):
    vm = _vismem(vlm_dir)
    e, vision, vmask = _inputs(vm)
    r = vm.generate(e, vision=vision, vision_mask=vmask, max_new_tokens=n + 4, invoke=kind)
    start = "<ms_I>" if kind == "short" else "<ml_I>"
    assert r.tokens[0] == vm.id_of(start)
    assert r.tokens[1:1 + n] == (LATENT,) * n
    assert r.tokens[1 + n] == vm.id_of(end)
    assert LATENT not in r.tokens[2 + n:]
    assert r.invocations == ((kind, 0),)
    never = vm.generate(e, vision=vision, vision_mask=vmask, max_new_tokens=4, invoke="never")
    assert never.invocations == () and LATENT not in never.tokens


def test_kv_cache_after_insertion_matches_full_forward(vlm_dir):
    """The logits after [prompt, <ms_I>, memory, <ms_E>] fed through the cache equal one full forward."""
    vm = _vismem(vlm_dir)
    e, vision, vmask = _inputs(vm)
    r = vm.generate(e, vision=vision, vision_mask=vmask, max_new_tokens=11, invoke="short")
    # rebuild the sequence up to the end token and run it without cache
    with torch.no_grad():
        ctx = vm.base_forward(torch.cat([e, vm.special_embeds("<ms_I>")], 1)).hidden_states[-1]
        mem = vm.form("short", ctx, torch.ones(ctx.shape[:2], dtype=torch.bool), vision["short"], vmask["short"])
        full, mask = vm.insert(e, torch.ones(e.shape[:2], dtype=torch.long), e.shape[1], "short", mem)
        logits = vm.base_forward(full, mask).logits[0, -1]
    first_after = r.tokens[10]  # the token generated right after <ms_E>
    assert first_after == int(logits.argmax())


def test_gradients_reach_only_trainable_parts(vlm_dir):
    vm = _vismem(vlm_dir)
    e, vision, vmask = _inputs(vm)
    ctx = vm.base_forward(e).hidden_states[-1]
    mem = vm.form("long", ctx, None, vision["long"], vmask["long"])
    full, mask = vm.insert(e, torch.ones(e.shape[:2], dtype=torch.long), e.shape[1], "long", mem)
    vm.base_forward(full, mask).logits[0, -1, 5].backward()
    base = [n for n, p in vm.model.named_parameters() if "lora_" not in n]
    assert base and all(not p.requires_grad and p.grad is None for n, p in vm.model.named_parameters()
                        if "lora_" not in n)
    got = {n for n, p in vm.trainable_state().items() if p.grad is not None and p.grad.abs().sum() > 0}
    assert any("lora_B.long" in n for n in got)
    assert not any("lora_B.short" in n or "lora_A.short" in n for n in got)  # the other former was not used
    assert {"vismem.builders.long.queries", "vismem.formers.long.scale", "vismem.special.weight"} <= got
    assert not any(n.startswith("vismem.builders.short") for n in got)


def test_query_builder_ignores_padding():
    torch.manual_seed(0)
    qb = QueryBuilder(64, 8, layers=2, heads=8).eval()
    h = torch.randn(1, 5, 64)
    padded = torch.cat([h, torch.randn(1, 3, 64) * 100], 1)
    mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    assert qb(h).shape == (1, 8, 64)
    assert torch.allclose(qb(h), qb(padded, mask), atol=1e-5)


def test_former_ignores_masked_vision_tokens(vlm_dir):
    vm = _vismem(vlm_dir)
    q = torch.randn(2, 8, 64)
    v = torch.randn(1, 3, 64)
    padded = torch.cat([torch.randn(1, 2, 64), v], 1)  # left padding
    with torch.no_grad():
        a = vm.formers["short"](q[:1], v)
        b = vm.formers["short"](q[:1], padded, torch.tensor([[0, 0, 1, 1, 1]], dtype=torch.bool))
    assert a.shape == (1, 8, 64)
    assert torch.allclose(a, b, atol=1e-4)


def test_save_load_round_trip_gives_identical_outputs(vlm_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    vm = _vismem(vlm_dir)
    with torch.no_grad():  # make every added parameter non-trivial
        for p in vm.trainable_state().values():
            p.add_(torch.randn_like(p) * 0.05)
    save_file({k: v.detach().contiguous() for k, v in vm.trainable_state().items()}, str(tmp_path / "vm.safetensors"))
    vm2 = VisMem(*load_model(vlm_dir), VisMemConfig(short_tokens=8, long_tokens=16, seed=7))
    state = load_file(str(tmp_path / "vm.safetensors"))
    with torch.no_grad():
        for k, p in vm2.trainable_state().items():
            p.copy_(state[k])
    e, vision, vmask = _inputs(vm)
    for kind in ("short", "long"):
        r1 = vm.generate(e, vision=vision, vision_mask=vmask, max_new_tokens=20, invoke=kind)
        r2 = vm2.generate(e, vision=vision, vision_mask=vmask, max_new_tokens=20, invoke=kind)
        assert r1 == r2
        with torch.no_grad():
            m1 = vm.form(kind, e, None, vision[kind], vmask[kind])
            m2 = vm2.form(kind, e, None, vision[kind], vmask[kind])
        assert torch.equal(m1, m2)


@pytest.mark.parametrize("kind", ["qwen2-vl", "qwen2.5-vl"])
def test_image_prefill_then_cached_decoding_matches_full_forward(kind):
    """A VLM prefill with pixels, then decoding through the cache with M-RoPE positions, as one full forward."""
    torch.manual_seed(0)
    vm = VisMem(tiny_model(kind, vocab_size=64, hidden=64, layers=2, heads=8), word_tokenizer(WORDS), CFG)
    cfg = vm.model.config
    ids = torch.tensor([[4, cfg.vision_start_token_id, cfg.image_token_id, 5]])
    image = {"pixel_values": torch.randn(4, 3 * 2 * 14 * 14), "image_grid_thw": torch.tensor([[1, 2, 2]])}

    def inputs(x):
        return {"input_ids": x, "attention_mask": torch.ones_like(x),
                "mm_token_type_ids": (x == cfg.image_token_id).int(), **image}

    r = vm.generate(model_inputs=inputs(ids), max_new_tokens=4, invoke="never", eos_token_id=-5)
    assert len(r.tokens) == 4
    full = torch.cat([ids, torch.tensor([r.tokens[:3]])], 1)
    with torch.no_grad(), vm.adapter(None):
        logits = vm.model(**inputs(full)).logits[0, ids.shape[1] - 1:]
    assert tuple(int(t) for t in logits.argmax(-1)) == r.tokens
    inv = vm.generate(model_inputs=inputs(ids), vision={"short": torch.randn(1, 3, 64)}, max_new_tokens=11,
                      invoke="short")
    assert inv.tokens[1:10] == (LATENT,) * 8 + (vm.id_of("<ms_E>"),)
