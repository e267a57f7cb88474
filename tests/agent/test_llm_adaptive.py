"""The LLM planner small local models can drive, against a scripted OpenAI-compatible server on 127.0.0.1.

Covers: forced choices (rejection and mapping), grammar fields sent when advertised (and the clean
fallback), max_tokens and stop sequences, the whole-request deadline against a dripping server, reply
size and timeout validation, retries, the repeated-program early stop, local fixes, the "answer, not a
program" diagnostic, few-shot examples of the question's type, chain's fallback on E240, and eval's
exit 9 on a dead endpoint.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import socket
import time

import pytest
import typer
from typer.testing import CliRunner

from spatialmem import dsl
from spatialmem.agent.answer import answer_question
from spatialmem.agent.base import PlannerConfig, Question, build_planner
from spatialmem.agent.fewshot import examples_for
from spatialmem.agent.grammars import gbnf, lark_ebnf
from spatialmem.agent.llm_client import DEFAULT_MAX_TOKENS, LLMClient, LLMConfig
from spatialmem.agent.llm_planner import LLMPlanner
from spatialmem.agent.prompts import build_messages
from spatialmem.agent.repair import balance_brackets, local_fixes
from spatialmem.commands import qa
from spatialmem.errors import InputError, LLMEndpointError, LLMError
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.store import save_memory

DIRECTION_Q = Question("If I am standing by the sofa and facing the tv, is the lamp to the left or the right of "
                       "the tv?", ("A. left", "B. right"), "object_rel_direction_easy", "mc1")
APPEAR_OPTS = ("A. sofa, tv, lamp", "B. tv, sofa, lamp", "C. lamp, tv, sofa")
APPEAR_Q = Question("What will be the first-time appearance order of the following categories in the video: "
                    "tv, lamp, sofa?", APPEAR_OPTS, "obj_appearance_order", "mc2")
DIST_Q = Question("How far is the sofa from the screen, in metres?", (), None, "d1")
GOOD = 'answer(distance(the("sofa"), the("tv")))'


def make_planner(server, tmp_path, **kw) -> LLMPlanner:
    llm = LLMConfig(base_url=server.base_url, model="test-model", timeout_s=kw.pop("timeout_s", 5.0),
                    max_retries=kw.pop("max_retries", 0), backoff=0.0, grammar=kw.pop("grammar", "off"),
                    max_reply_bytes=kw.pop("max_reply_bytes", 1_000_000))
    return LLMPlanner(PlannerConfig(llm=llm, transcript_dir=tmp_path / "tr", **kw))


def events(tmp_path, qid: str) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "tr" / f"{qid}.jsonl").read_text().splitlines()]


# ------------------------------------------------------------------ forced choice
def test_forced_choice_rejects_a_non_choice_answer_with_a_hint(chat_server, memory, tmp_path):
    chat_server.reply('answer(distance(the("sofa"), the("lamp")))')
    chat_server.reply('v = stand_at(the("sofa"), facing=the("tv"))\n'
                      'answer(choose(["A. left", "B. right"], direction(v, the("lamp"))))')
    rec = answer_question(DIRECTION_Q, memory, make_planner(chat_server, tmp_path, max_repairs=1))
    assert rec.ok and rec.answer in ("A", "B") and rec.value_type == "Choice"
    repair = chat_server.bodies()[1]["messages"][-1]["content"]
    assert "E232" in repair and "wrap the value in choose()" in repair
    assert 'answer(choose(["A. left", "B. right"], VALUE))' in repair
    prompt = chat_server.bodies()[0]["messages"]
    assert "answer(choose(OPTIONS, value))" in prompt[0]["content"]
    assert 'end with answer(choose(["A. left", "B. right"], VALUE))' in prompt[1]["content"]


def test_forced_choice_maps_a_value_equal_to_an_option_onto_its_letter(chat_server, memory, tmp_path):
    # the memory's first sightings: sofa 0.5 s, tv 3.0 s, lamp 5.0 s -> option A's exact text
    chat_server.reply('answer(appearance_order(["tv", "lamp", "sofa"]))')
    rec = answer_question(APPEAR_Q, memory, make_planner(chat_server, tmp_path))
    assert rec.ok and rec.answer == "A" and len(chat_server.requests) == 1
    assert "equals option A" in rec.notes["forced_choice"]
    assert any("forced choice" in line and "answered A" in line for line in rec.trace)
    accepted = [e for e in events(tmp_path, "mc2") if e["event"] == "accepted"]
    assert "option A" in accepted[0]["forced_choice"]


def test_forced_choice_holds_for_the_template_planner_path_too(memory):
    class Fixed:
        name = "fixed"

        def __init__(self, program):
            self.program = program

        def plan(self, question, summary, memory=None):
            from spatialmem.agent.base import Plan
            return Plan(self.program, self.name)

    rec = answer_question(APPEAR_Q, memory, Fixed('answer(appearance_order(["tv", "lamp", "sofa"]))'))
    assert rec.ok and rec.answer == "A" and "forced_choice" in rec.notes
    rec = answer_question(APPEAR_Q, memory, Fixed("answer(3)"))
    assert not rec.ok and rec.error_kind == "check" and "E232" in rec.error and "choose(" in rec.error


# ------------------------------------------------------------------ request shape and grammar
def test_max_tokens_and_stop_sequences_are_sent(chat_server, memory, tmp_path):
    chat_server.reply(GOOD)
    answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path))
    body = chat_server.bodies()[0]
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS == 300
    assert "\n```\n" in body["stop"]
    assert "grammar" not in body and "response_format" not in body


@pytest.mark.parametrize("kind, field, text", [("llama.cpp", "grammar", gbnf), ("vllm", "guided_grammar", lark_ebnf)])
def test_grammar_field_is_sent_when_the_server_advertises_it(server_of, memory, tmp_path, kind, field, text):
    server = server_of(kind)
    server.reply(GOOD)
    rec = answer_question(DIST_Q, memory, make_planner(server, tmp_path, grammar="auto"))
    assert rec.ok and rec.notes["grammar"] == ("gbnf" if kind == "llama.cpp" else "lark")
    body = server.bodies()[0]
    assert body[field] == text()
    assert "```" not in body["messages"][-1]["content"].split("# Task")[-1]  # no fence asked for
    assert server.gets.count("/v1/models") == 1  # probed once


def test_json_schema_where_that_is_all_the_server_has_and_clean_fallback(server_of, memory, tmp_path):
    server = server_of("plain")
    server.fail(400, "response_format is not supported")
    server.reply(GOOD)
    rec = answer_question(DIST_Q, memory, make_planner(server, tmp_path, grammar="auto"))
    assert rec.ok and rec.program == GOOD and rec.notes["grammar"] == "off"
    first, second = server.bodies()
    assert first["response_format"]["type"] == "json_schema" and "response_format" not in second
    attempts = [e for e in events(tmp_path, "d1") if e["event"] == "reply"][0]["http_attempts"]
    assert [a["outcome"] for a in attempts] == ["grammar rejected", "ok"]
    server.reply(json.dumps({"program": GOOD}))  # json mode replies are unwrapped
    client = LLMClient(LLMConfig(base_url=server.base_url, model="m", grammar="json"))
    assert client.chat([{"role": "user", "content": "hi"}], constrained=True).text == GOOD


def test_explicit_grammar_rejected_is_an_error_that_names_the_switch(server_of):
    server = server_of("llama.cpp")
    server.fail(400, "grammar parse error")
    client = LLMClient(LLMConfig(base_url=server.base_url, model="m", grammar="gbnf"))
    with pytest.raises(LLMEndpointError, match="HTTP 400"):
        client.chat([{"role": "user", "content": "hi"}], constrained=True)
    assert server.bodies()[0]["grammar"] == gbnf()


# ------------------------------------------------------------------ bounded requests
def test_deadline_holds_against_a_server_that_drips_one_byte_a_second(chat_server, memory, tmp_path):
    chat_server.drip(GOOD, every_s=1.0)
    t0 = time.monotonic()
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path, timeout_s=1.5, max_retries=3))
    took = time.monotonic() - t0
    assert not rec.ok and rec.error_kind == "endpoint" and "1.5 s" in rec.error
    assert took < 4.0, took
    assert len(chat_server.requests) == 1  # a timed-out request is never sent again
    err = [e for e in events(tmp_path, "d1") if e["event"] == "error"][0]
    assert [a["outcome"] for a in err["http_attempts"]] == ["timeout"]


def test_question_budget_bounds_all_requests_together(chat_server, memory, tmp_path):
    chat_server.reply("answer(1 +)", delay=0.6)
    chat_server.reply("answer(2 +)", delay=0.6)
    chat_server.reply(GOOD, delay=0.6)
    t0 = time.monotonic()
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path, max_repairs=3, question_budget_s=1.0))
    assert not rec.ok and rec.error_kind == "endpoint" and time.monotonic() - t0 < 2.5


def test_reply_size_is_bounded(chat_server, memory, tmp_path):
    chat_server.reply("answer(1)  # " + "x" * 50_000)
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path, max_reply_bytes=10_000))
    assert not rec.ok and rec.error_kind == "endpoint" and "larger than 10000 bytes" in rec.error


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_non_finite_or_non_positive_timeouts_are_rejected(bad):
    with pytest.raises(InputError, match="timeout"):
        LLMConfig(model="m", timeout_s=bad)
    with pytest.raises(InputError, match="budget"):
        LLMPlanner(PlannerConfig(llm=LLMConfig(model="m"), question_budget_s=bad))


def test_retries_only_connection_errors_and_429_5xx_and_logs_every_attempt(chat_server, memory, tmp_path):
    chat_server.fail(503)
    chat_server.fail(429)
    chat_server.reply(GOOD)
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path, max_retries=2))
    assert rec.ok and len(chat_server.requests) == 3
    reply = [e for e in events(tmp_path, "d1") if e["event"] == "reply"][0]
    assert [a["outcome"] for a in reply["http_attempts"]] == ["http 503", "http 429", "ok"]
    chat_server.fail(400, "bad request")
    client = LLMClient(LLMConfig(base_url=chat_server.base_url, model="m", max_retries=3, backoff=0.0))
    with pytest.raises(LLMEndpointError, match="HTTP 400") as info:
        client.chat([{"role": "user", "content": "hi"}])
    assert len(info.value.attempts) == 1 and len(chat_server.requests) == 4


# ------------------------------------------------------------------ the adaptive repair loop
def test_repeated_program_ends_the_loop_early(chat_server, memory, tmp_path):
    bad = 'answer(distance(the("sofa"), 3))'
    for _ in range(4):
        chat_server.reply(f"```sm\n{bad}\n```")
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path, max_repairs=3))
    assert not rec.ok and rec.error_kind == "llm" and "same rejected program again" in rec.error
    assert len(chat_server.requests) == 2
    assert events(tmp_path, "d1")[-1]["event"] == "stalled"


def test_unambiguous_fixes_are_applied_locally_and_recorded(chat_server, memory, tmp_path):
    chat_server.reply('answer(dist(the("sofas"), the("tv"))')  # missing ')', op alias, plural category
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path))
    assert rec.ok and rec.program == GOOD and len(chat_server.requests) == 1
    fixes = rec.notes["local_fixes"]
    assert sorted(fixes) == ["category 'sofas' -> 'sofa'", "closed 1 bracket(s)", "operation 'dist' -> 'distance'"]
    assert [e for e in events(tmp_path, "d1") if e["event"] == "local_fix"][0]["fixes"] == fixes


def test_the_over_several_objects_becomes_the_largest_after_the_dry_run(chat_server, memory, tmp_path):
    small, big = memory.by_category("chair")  # shrink one chair to a fragment: the other is the largest
    fragment = dataclasses.replace(small, box=OrientedBox.from_yaw(small.box.center, (0.2, 0.2, 0.3), 0.0))
    memory = dataclasses.replace(memory, instances=tuple(fragment if o is small else o for o in memory.instances))
    chat_server.reply('answer(distance(the("lamp"), the("chair")))')  # R400 in the dry run: two chairs
    rec = answer_question(DIST_Q, memory, make_planner(chat_server, tmp_path))
    largest = 'first(sort_by(objects("chair"), key="volume", descending=true))'
    assert rec.ok and len(chat_server.requests) == 1
    assert rec.program == f'answer(distance(the("lamp"), {largest}))'
    assert rec.notes["local_fixes"] == [
        "the('chair') -> the largest chair (the memory holds 2; the question names one)"]
    to = {o.id: dsl.run_program(f'answer(distance(the("lamp"), object({o.id})))', memory).answer_text
          for o in (fragment, big)}
    assert to[big.id] != to[fragment.id] and rec.answer == to[big.id]
    fixed = [e for e in events(tmp_path, "d1") if e["event"] == "local_fix"]
    assert fixed and fixed[0]["after"] == rec.program


def test_bracket_balancing_is_per_statement_and_only_when_it_parses(memory):
    program = 'v = stand_at(the("sofa"), facing=the("tv")\nanswer(choose(["A. left", "B. right"], ' \
              'direction(v, the("lamp")))'
    fixed, what = balance_brackets(program)
    assert what == "closed 2 bracket(s)" and dsl.parse(fixed)
    assert balance_brackets('answer(count(objects("chair"))))')[0] == 'answer(count(objects("chair")))'
    ambiguous = 'answer(distance(the("lamp"), the("chair")))'  # two chairs: no single fix
    assert local_fixes(ambiguous, memory) == (ambiguous, [])


def test_an_answer_instead_of_a_program_gets_that_diagnostic(chat_server, memory, tmp_path):
    chat_server.reply("B")
    chat_server.reply('v = stand_at(the("sofa"), facing=the("tv"))\n'
                      'answer(choose(["A. left", "B. right"], direction(v, the("lamp"))))')
    rec = answer_question(DIRECTION_Q, memory, make_planner(chat_server, tmp_path, max_repairs=1))
    assert rec.ok
    repair = chat_server.bodies()[1]["messages"][-1]["content"]
    assert "this is an answer, not a program" in repair and "option letter 'B'" in repair
    assert "used before it is assigned" not in repair


def test_scheme_hint_prefers_shared_words_over_spelling(memory):
    diags = dsl.check(dsl.parse('v = stand_at(the("sofa"), facing=the("tv"))\n'
                                'answer(direction(v, the("lamp"), scheme="back_left"))'), memory)
    assert diags[0].code == "E204" and "did you mean 'left_right_back'" in diags[0].hint


# ------------------------------------------------------------------ prompt: few-shot, categories, budget
def test_few_shot_examples_match_the_question_type_and_use_the_memory(chat_server, memory, tmp_path):
    hard = Question("If I am standing by the sofa and facing the tv, is the lamp to my front-left, front-right, "
                    "back-left, or back-right?", ("A. front-left", "B. front-right", "C. back-left", "D. back-right"),
                    "object_rel_direction_hard", "h1")
    chat_server.reply('v = stand_at(the("sofa"), facing=the("tv"))\n'
                      'answer(choose(["A. front-left", "B. front-right", "C. back-left", "D. back-right"], '
                      'direction(v, the("lamp"), scheme="quadrant")))')
    rec = answer_question(hard, memory, make_planner(chat_server, tmp_path))
    assert rec.ok
    prompt = chat_server.bodies()[0]["messages"][1]["content"]
    shots = prompt.split("# Worked examples")[1].split("# Task")[0]
    assert shots.count("Question: If I am standing by") == 2 and shots.count('scheme="quadrant"') == 2
    assert "How many" not in shots and "bed" not in shots
    assert 'Use only these category names: "chair", "lamp", "sofa", "trash bin", "tv".' in prompt
    logged = [e for e in events(tmp_path, "h1") if e["event"] == "prompt"][0]
    assert logged["examples"] == ["object_rel_direction_hard"] * 2


def test_prompt_budget_counts_with_the_server_tokenizer_and_drops_examples(server_of, memory, tmp_path):
    server = server_of("llama.cpp")  # its /tokenize counts 1 token per 4 characters
    question = Question("How many chair(s) are in this room?", (), "object_counting", "c1")
    shots = examples_for(question, memory.summary(), 2)
    sizes = [sum(len(m["content"]) for m in build_messages(question, memory.summary(), dsl.reference_text(),
                                                            shots[:k], "gbnf")) // 4 for k in (1, 2)]
    assert len(shots) == 2 and sizes[0] < sizes[1]
    server.reply(GOOD)
    planner = make_planner(server, tmp_path, grammar="auto", prompt_budget_tokens=sizes[0] + 1)
    assert answer_question(question, memory, planner).ok
    logged = [e for e in events(tmp_path, "c1") if e["event"] == "prompt"][0]
    assert logged["examples"] == ["object_counting"] and sizes[0] - 2 <= logged["tokens"] <= sizes[0] + 1
    assert server.tokenize_calls == 2  # two examples did not fit; one did


# ------------------------------------------------------------------ chain and eval
def test_chain_falls_back_to_the_llm_on_a_checker_error(chat_server, memory, tmp_path):
    total = Question("How many objects are in the room in total?", (), "object_counting", "t1")
    chain = build_planner("chain", PlannerConfig(llm=LLMConfig(base_url=chat_server.base_url, model="m",
                                                               grammar="off", max_retries=0)))
    chat_server.reply("answer(count(all_objects()))")
    rec = answer_question(total, memory, chain)
    assert rec.ok and rec.planner == "llm" and rec.answer == "6"
    assert "E240" in rec.notes["template_error"] and len(chat_server.requests) == 1
    rec = answer_question(total, memory, build_planner("chain"))
    assert not rec.ok and rec.error_kind == "check" and "E240" in rec.error


def _eval_inputs(tmp_path, memory, n: int):
    save_memory(memory, tmp_path / "mems" / "scene_test")
    qfile = tmp_path / "q.jsonl"
    rows = [{"id": f"q{i}", "scene_name": "scene_test", "question_type": "object_abs_distance",
             "question": f"How far is the sofa from the screen? ({i})", "options": [], "ground_truth": "2"}
            for i in range(n)]
    qfile.write_text("".join(json.dumps(r) + "\n" for r in rows))
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    qa.register(app)
    return qfile, app


def test_eval_with_a_dead_endpoint_exits_9_before_any_question(tmp_path, memory):
    qfile, app = _eval_inputs(tmp_path, memory, 2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = CliRunner().invoke(app, ["eval", str(qfile), "--memories", str(tmp_path / "mems"), "--out",
                                   str(tmp_path / "out"), "--planner", "llm", "--llm-model", "m",
                                   "--llm-base-url", f"http://127.0.0.1:{port}/v1", "--no-chart"])
    assert isinstance(res.exception, LLMError) and LLMError.exit_code == 9
    assert "does not answer" in str(res.exception) and "--llm-base-url" in str(res.exception)
    assert not (tmp_path / "out" / "predictions.jsonl").exists()


def test_eval_stops_after_consecutive_endpoint_failures(chat_server, tmp_path, memory):
    qfile, app = _eval_inputs(tmp_path, memory, 6)
    for _ in range(6):
        chat_server.fail(503, "overloaded")
    res = CliRunner().invoke(app, ["eval", str(qfile), "--memories", str(tmp_path / "mems"), "--out",
                                   str(tmp_path / "out"), "--planner", "llm", "--llm-model", "m", "--llm-retries", "0",
                                   "--llm-base-url", chat_server.base_url, "--llm-grammar", "off", "--no-chart",
                                   "--max-endpoint-failures", "2"])
    assert isinstance(res.exception, LLMError) and "2 consecutive" in str(res.exception)
    rows = (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()
    assert len(rows) == 2 and len(chat_server.requests) == 2
    assert all(json.loads(r)["error_kind"] == "endpoint" for r in rows)


def test_route_examples_take_the_shape_of_the_question(living):
    from spatialmem.synth import templates as T

    steps = T.route_steps(["tv", "lamp"], "sofa", first_turn=True)  # three blanks, the first one a turn
    options = ("A. Turn Left, Turn Right, Turn Back", "B. Turn Back, Turn Back, Turn Left")
    q = Question(T.ROUTE.format(a="bed", b="tv", c="sofa", steps=steps), options, "route_planning", "r3")
    shaped, simple = examples_for(q, living.summary(), limit=2)
    named = ("bed", "tv", "lamp", "sofa")
    assert not any(re.search(rf"\b{c}\b", shaped.question.text) for c in named)  # other categories ...
    assert re.sub(r"the [a-z ]+?(?= facing| \d|\.)", "the X", shaped.question.text) == \
        re.sub(r"the [a-z ]+?(?= facing| \d|\.)", "the X", q.text)  # ... in the question's own shape
    assert shaped.question.options == options
    assert shaped.program.count("turn_to(") == 3 and dsl.check(dsl.parse(shaped.program), living) == []
    assert len(re.findall(r"\d+\. \[please fill in\]", simple.question.text)) == 1
