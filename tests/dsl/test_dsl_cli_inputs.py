"""Program files and output paths that used to crash ``run`` / ``check``: each gets a clear error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spatialmem import cli
from spatialmem.agent.llm_planner import Transcript
from spatialmem.dsl import parse
from spatialmem.errors import ProgramError
from spatialmem.memory import store


@pytest.fixture(scope="module")
def mem_dir(tmp_path_factory, memories):
    path = tmp_path_factory.mktemp("mem") / "living"
    store.save_memory(memories["living"], path)
    return path


def test_program_file_with_a_bom_runs(mem_dir, tmp_path, capsys):
    prog = tmp_path / "p.sm"
    prog.write_bytes(b"\xef\xbb\xbf" + b'answer(count(objects("chair")))\n')
    assert cli.main(["run", str(mem_dir), str(prog)]) == 0
    assert capsys.readouterr().out.strip() == "3"
    assert cli.main(["check", str(prog)]) == 0


def test_directory_or_latin1_program_file_is_exit_2(mem_dir, tmp_path, capsys):
    assert cli.main(["run", str(mem_dir), str(tmp_path)]) == 2
    assert "is a directory, not a file" in capsys.readouterr().err
    latin = tmp_path / "p.sm"
    latin.write_bytes(b'answer("caf\xe9")\n')
    assert cli.main(["check", str(latin)]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


def test_save_images_onto_a_file_is_exit_2(mem_dir, tmp_path, capsys):
    target = tmp_path / "images"
    target.write_text("a file")
    assert cli.main(["run", str(mem_dir), "-e", "look(topdown())\nanswer(1)", "--save-images", str(target)]) == 2
    assert "exists and is a file" in capsys.readouterr().err


@pytest.mark.parametrize("src", ['answer("\\ud800")', 'x = "a\\udfffb"\nanswer(x)'])
def test_lone_surrogate_escape_is_a_syntax_error(src):
    with pytest.raises(ProgramError) as info:
        parse(src)
    assert info.value.diagnostics[0].code == "E100" and "surrogate" in info.value.diagnostics[0].message


def test_lone_surrogates_never_crash_the_output(mem_dir):
    # a real process with a real stdout: the escape in the program, and an undecodable byte on the command line
    for args in (["-e", 'answer("\\ud800")'], ["-e", 'answer("\\ud800")', "--json"]):
        out = subprocess.run([sys.executable, "-m", "spatialmem.cli", "run", str(mem_dir), *args],
                             capture_output=True, timeout=60)
        assert out.returncode == 6 and b"Traceback" not in out.stderr, out.stderr[-800:]
    raw = subprocess.run([sys.executable, "-m", "spatialmem.cli", "run", str(mem_dir).encode(), b"-e",
                          b'answer("caf\xe9")'], capture_output=True, timeout=60)
    assert raw.returncode == 6 and b"not valid text" in raw.stderr and b"Traceback" not in raw.stderr


def test_transcript_survives_a_lone_surrogate_in_a_reply(tmp_path):
    Transcript(tmp_path, "q1").log("reply", text="bad \ud800 reply")
    row = json.loads((tmp_path / "q1.jsonl").read_text(encoding="utf-8"))
    assert row["text"] == "bad \ud800 reply"  # written as the JSON escape, read back unchanged
