"""LLM planner over a real HTTP OpenAI-compatible server on 127.0.0.1 (official openai client path)."""

from __future__ import annotations

import json
import socket

import pytest

from spatialmem import dsl
from spatialmem.agent.answer import answer_question
from spatialmem.agent.base import PlannerConfig, Question, build_planner
from spatialmem.agent.llm_client import LLMClient, LLMConfig
from spatialmem.agent.llm_planner import LLMPlanner
from spatialmem.agent.prompts import extract_program, plain_diagnostic
from spatialmem.errors import InputError, LLMError

BAD = 'answer(distance(the("sofa"), 3))'
GOOD = 'answer(distance(the("sofa"), the("tv")))'
QUESTION = Question("How far is the sofa from the screen, in metres?", (), None, "q/1")


def planner_for(server, tmp_path, **kw) -> LLMPlanner:
    llm = LLMConfig(base_url=server.base_url, model="test-model", timeout_s=kw.pop("timeout_s", 5.0),
                    max_retries=kw.pop("max_retries", 0), backoff=0.0, grammar=kw.pop("grammar", "off"))
    return LLMPlanner(PlannerConfig(llm=llm, transcript_dir=tmp_path / "tr", **kw))


def test_repair_loop_sends_diagnostics_back(chat_server, memory, tmp_path):
    chat_server.reply(f"Here you go:\n```sm\n{BAD}\n```")
    chat_server.reply(f"```sm\n{GOOD}\n```")
    rec = answer_question(QUESTION, memory, planner_for(chat_server, tmp_path, max_repairs=2))
    assert rec.ok, rec.error
    assert rec.program == GOOD and rec.notes["llm_attempts"] == 2
    expected = dsl.run_program(GOOD, memory).answer_text
    assert rec.answer == expected
    assert len(chat_server.requests) == 2
    first = chat_server.requests[0]["body"]
    assert first["model"] == "test-model"
    prompt = first["messages"][-1]["content"]
    assert dsl.reference_text().strip()[:200] in prompt and "sofa (1)" in prompt and "chair (2)" in prompt
    second = chat_server.requests[1]["body"]["messages"]
    # only the extracted program is kept as the assistant turn, not the prose around it
    assert second[-2] == {"role": "assistant", "content": f"```sm\n{BAD}\n```"}
    diags = dsl.check(dsl.parse(BAD), memory)
    assert diags, "the scripted bad program must fail the checker"
    assert plain_diagnostic(diags[0]) in second[-1]["content"]
    assert "^" not in second[-1]["content"]  # no caret art for the model to copy
    events = [json.loads(line)["event"] for line in (tmp_path / "tr" / "q_1.jsonl").read_text().splitlines()]
    assert events == ["question", "prompt", "request", "reply", "diagnostics", "request", "reply", "accepted"]


def test_timeout_is_a_recorded_llm_failure(chat_server, memory, tmp_path):
    chat_server.reply(GOOD, delay=1.5)
    rec = answer_question(QUESTION, memory, planner_for(chat_server, tmp_path, timeout_s=0.3))
    assert not rec.ok and rec.error_kind == "endpoint"
    assert "within 0.3 s" in rec.error and chat_server.base_url in rec.error


def test_retries_on_500_and_429_then_success(chat_server, memory, tmp_path):
    chat_server.fail(500)
    chat_server.fail(429, "slow down")
    chat_server.reply(GOOD)
    rec = answer_question(QUESTION, memory, planner_for(chat_server, tmp_path, max_retries=3))
    assert rec.ok and rec.program == GOOD
    assert len(chat_server.requests) == 3


def test_retries_exhausted_and_non_retryable(chat_server, tmp_path):
    chat_server.fail(503)
    chat_server.fail(503)
    client = LLMClient(LLMConfig(base_url=chat_server.base_url, model="m", max_retries=1, backoff=0.0))
    with pytest.raises(LLMError, match=r"HTTP 503.*after 2 attempt\(s\)"):
        client.chat([{"role": "user", "content": "hi"}])
    chat_server.fail(400, "bad request")
    with pytest.raises(LLMError, match="HTTP 400"):
        client.chat([{"role": "user", "content": "hi"}])
    assert len(chat_server.requests) == 3  # 400 is not retried


def test_garbage_output_is_a_recorded_failure(chat_server, memory, tmp_path):
    chat_server.reply("I think the answer is probably 42, my friend!")
    chat_server.reply("Honestly, about 42.")
    rec = answer_question(QUESTION, memory, planner_for(chat_server, tmp_path, max_repairs=1))
    assert not rec.ok and rec.error_kind == "llm"
    assert "no valid program after 2 attempt(s)" in rec.error
    assert len(chat_server.requests) == 2


def test_non_json_and_empty_replies(chat_server, tmp_path):
    client = LLMClient(LLMConfig(base_url=chat_server.base_url, model="m", max_retries=0))
    chat_server.script.append((200, "<html>not an API</html>", 0.0))
    with pytest.raises(LLMError):
        client.chat([{"role": "user", "content": "hi"}])
    chat_server.reply("   ")
    with pytest.raises(LLMError, match="no message text"):
        client.chat([{"role": "user", "content": "hi"}])


def test_unreachable_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = LLMClient(LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1, backoff=0.0,
                                 timeout_s=2.0))
    with pytest.raises(LLMError, match="unreachable"):
        client.chat([{"role": "user", "content": "hi"}])


def test_chain_uses_template_first_then_llm(chat_server, memory, tmp_path):
    llm = LLMConfig(base_url=chat_server.base_url, model="test-model", max_retries=0)
    chain = build_planner("chain", PlannerConfig(llm=llm))
    rec = answer_question(Question("How many chair(s) are in this room?"), memory, chain)
    assert rec.ok and rec.answer == "2" and rec.planner == "template"
    assert chat_server.requests == []
    chat_server.reply(GOOD)
    rec = answer_question(QUESTION, memory, chain)
    assert rec.ok and rec.planner == "llm" and "template_error" in rec.notes
    no_llm = build_planner("chain")
    rec = answer_question(QUESTION, memory, no_llm)
    assert not rec.ok and rec.error_kind == "planning" and rec.error.startswith("cannot plan")


def test_llm_config_validation():
    with pytest.raises(InputError, match="--llm-model"):
        LLMConfig(model="")
    with pytest.raises(InputError, match="needs a model"):
        LLMPlanner(PlannerConfig())


@pytest.mark.parametrize(
    "reply, program",
    [
        ("```sm\nanswer(1)\n```", "answer(1)"),
        ("text\n```python\nx = 1\n```\n```sm\nanswer(2)\n```", "answer(2)"),
        ("Sure:\n```\nanswer(3)\n```\nDone.", "answer(3)"),
        ("answer(4)", "answer(4)"),
        ("Program: answer(5)", "answer(5)"),
        ("```sm\nanswer(6)", "answer(6)"),
        ("", ""),
    ],
)
def test_extract_program(reply, program):
    assert extract_program(reply) == program


def test_look_sends_images_to_the_vision_model(chat_server, memory, tmp_path):
    chat_server.reply('```sm\nlook(topdown())\nanswer(count(objects("chair")))\n```')
    chat_server.reply("3")
    planner = LLMPlanner(PlannerConfig(
        llm=LLMConfig(base_url=chat_server.base_url, model="planner-model", vision_model="vision-model",
                      max_retries=0),
        transcript_dir=tmp_path / "tr",
    ))
    rec = answer_question(Question("How many chairs? Look at the map.", (), None, "v1"), memory, planner)
    assert rec.ok and rec.answer == "3" and rec.notes["program_answer"] == "2"
    vision = chat_server.requests[1]["body"]
    assert vision["model"] == "vision-model"
    parts = vision["messages"][0]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert len(urls) == 1 and urls[0].startswith("data:image/png;base64,iVBOR")
    assert "How many chairs?" in parts[0]["text"]
    log = (tmp_path / "tr" / "v1.jsonl").read_text()
    assert "vision_request" in log and "base64" not in log


def test_runtime_error_is_repaired_too(chat_server, memory, tmp_path):
    ambiguous = 'answer(to_cm(objects("chair")[2].longest_side))'  # two chairs: index 2 fails at run time
    fixed = 'answer(to_cm(first(objects("chair")).longest_side))'
    chat_server.reply(ambiguous)
    chat_server.reply(fixed)
    q = Question("How big is a chair, in cm?", (), None, "rt")
    rec = answer_question(q, memory, planner_for(chat_server, tmp_path, max_repairs=1))
    assert rec.ok and rec.program == fixed and rec.answer == "90"
    repair = chat_server.requests[1]["body"]["messages"][-1]["content"]
    with pytest.raises(dsl.ProgramError) as info:
        dsl.run_program(ambiguous, memory)
    assert plain_diagnostic(info.value.diagnostics[0]) in repair


def test_remote_endpoint_without_key_is_refused(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MY_KEY", raising=False)
    for url in ("https://api.example.com/v1", None, "http://10.0.0.5:8000/v1"):
        with pytest.raises(LLMError, match="OPENAI_API_KEY"):
            LLMClient(LLMConfig(base_url=url, model="m"))
    with pytest.raises(LLMError, match="MY_KEY"):
        LLMClient(LLMConfig(base_url="https://api.example.com/v1", model="m", api_key_env="MY_KEY"))
    for url in ("http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://[::1]:8000/v1"):
        client = LLMClient(LLMConfig(base_url=url, model="m"))
        assert client._client.api_key == "EMPTY"
    monkeypatch.setenv("MY_KEY", "sk-test")
    client = LLMClient(LLMConfig(base_url="https://api.example.com/v1", model="m", api_key_env="MY_KEY"))
    assert client._client.api_key == "sk-test"


def test_accepted_program_runs_once(chat_server, memory, tmp_path, monkeypatch):
    runs = []
    real = dsl.run_checked
    monkeypatch.setattr(dsl, "run_checked", lambda *a, **k: runs.append(1) or real(*a, **k))
    chat_server.reply(f"```sm\n{GOOD}\n```")
    rec = answer_question(QUESTION, memory, planner_for(chat_server, tmp_path))
    assert rec.ok and rec.program == GOOD
    assert len(runs) == 1  # the dry run's result is reused, not run a second time
    assert rec.answer == real(dsl.parse(GOOD), memory).answer_text


def test_every_command_takes_its_llm_and_planner_defaults_from_the_config_dataclasses():
    """--llm-* and --max-repairs defaults are LLMConfig's / PlannerConfig's, in ask, eval, vsibench and serve."""
    import dataclasses

    import typer

    from spatialmem.cli import app

    llm = {f.name: f.default for f in dataclasses.fields(LLMConfig)}
    option_field = {"llm_base_url": "base_url", "llm_api_key_env": "api_key_env", "llm_temperature": "temperature",
                    "llm_timeout": "timeout_s", "llm_retries": "max_retries", "llm_backoff": "backoff",
                    "llm_grammar": "grammar", "llm_max_tokens": "max_tokens"}
    root = typer.main.get_command(app)
    seen = {}
    for name in ("ask", "eval", "vsibench", "serve"):
        for p in root.commands[name].params:
            if p.name in option_field:
                assert p.default == llm[option_field[p.name]], (name, p.name, p.default)
                seen.setdefault(name, set()).add(p.name)
            elif p.name == "max_repairs":
                assert p.default == PlannerConfig().max_repairs, name
    assert seen["ask"] == seen["eval"] == set(option_field) and {"llm_timeout", "llm_retries"} <= seen["vsibench"]
    assert {"llm_base_url", "llm_api_key_env"} <= seen["serve"]
