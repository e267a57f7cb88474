"""``spatialmem run`` / ``spatialmem check``: answers, JSON, diagnostics and distinct exit codes."""

from __future__ import annotations

import json

import pytest

from spatialmem import cli
from spatialmem.memory import store


class _Result:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code, self.stdout, self.output = exit_code, stdout, stdout + stderr


@pytest.fixture()
def app(capsys):
    def invoke(args):
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return _Result(code, out, err)
    return invoke


@pytest.fixture(scope="module")
def mem_dir(tmp_path_factory, memories):
    path = tmp_path_factory.mktemp("mem") / "living"
    store.save_memory(memories["living"], path)
    return path


def _run(app, args):
    return app(args)


def test_run_expression(app, mem_dir):
    r = _run(app, ["run", mem_dir, "-e", 'answer(distance(the("sofa"), the("tv")))'])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "3.95"


def test_run_file_json(app, mem_dir, tmp_path):
    prog = tmp_path / "q.sm"
    prog.write_text('v = stand_at(the("sofa"), facing=the("tv"))\n'
                    'answer(choose(["A. left", "B. right"], direction(v, the("lamp"))))\n')
    r = _run(app, ["run", mem_dir, prog, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["ok"] and out["answer_text"] == "A" and out["value_type"] == "Choice"


def test_run_check_error_exit_6(app, mem_dir):
    r = _run(app, ["run", mem_dir, "-e", 'answer(the("couch").height)'])
    assert r.exit_code == 6
    assert "E240" in r.output and 'did you mean "sofa"' in r.output


def test_run_syntax_error_exit_6_json(app, mem_dir):
    r = _run(app, ["run", mem_dir, "-e", "answer(", "--json"])
    assert r.exit_code == 6
    out = json.loads(r.stdout)
    assert not out["ok"] and out["stage"] == "check" and out["diagnostics"][0]["code"] == "E100"


def test_run_runtime_error_exit_7(app, mem_dir):
    r = _run(app, ["run", mem_dir, "-e", 'answer(the("chair"))'])
    assert r.exit_code == 7
    assert "R400" in r.output


def test_run_saves_looked_images(app, mem_dir, tmp_path):
    out = tmp_path / "imgs"
    r = _run(app, ["run", mem_dir, "-e", 'look(keyframe(the("tv")))\nanswer(1)', "--save-images", out])
    assert r.exit_code == 0, r.output
    assert (out / "look_00.png").is_file()


def test_check_command(app, mem_dir, tmp_path):
    good, bad = tmp_path / "good.sm", tmp_path / "bad.sm"
    good.write_text('answer(count(objects("chair")))\n')
    bad.write_text('x = the("sofa").height + room_area()\n')
    assert _run(app, ["check", good, "--memory", mem_dir]).exit_code == 0
    r = _run(app, ["check", bad, "--memory", mem_dir])
    assert r.exit_code == 6
    assert "E211" in r.output and "E230" in r.output
    r = _run(app, ["check", bad, "--json"])
    codes = [d["code"] for d in json.loads(r.stdout)["diagnostics"]]
    assert codes == ["E211", "E230"]


def test_bad_usage(app, mem_dir, tmp_path):
    r = _run(app, ["run", mem_dir])
    assert r.exit_code == 2
    r = _run(app, ["run", mem_dir, tmp_path / "missing.sm"])
    assert r.exit_code == 2
    r = _run(app, ["run", tmp_path / "no_memory", "-e", "answer(1)"])
    assert r.exit_code == 4


@pytest.mark.parametrize("literal", ["9" * 400, "9" * 5000])
def test_run_huge_number_literal_exits_6(app, mem_dir, literal):
    r = _run(app, ["run", mem_dir, "-e", f"answer({literal})"])
    assert r.exit_code == 6, r.output
    assert "E300" in r.output and "number out of range" in r.output
