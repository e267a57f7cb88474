"""Question loading from JSONL, CSV and Parquet, including malformed rows."""

from __future__ import annotations

import csv
import json

import pytest

from spatialmem.bench.data import load_questions
from spatialmem.errors import FormatError, InputError

ROWS = [
    {"id": "q1", "dataset": "d", "scene_name": "scene_00001", "question_type": "object_counting",
     "question": "How many chair(s) are in this room?", "options": [], "ground_truth": "3"},
    {"id": 2, "dataset": "d", "scene_name": "scene_00001", "question_type": "object_rel_direction_easy",
     "question": "If I am standing by the sofa and facing the tv, is the lamp to the left or the right of the tv?",
     "options": ["A. left", "B. right"], "ground_truth": "B"},
]


def _write_jsonl(path, rows, extra_lines=()):
    with path.open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")


def test_jsonl_roundtrip_and_types(tmp_path):
    p = tmp_path / "q.jsonl"
    _write_jsonl(p, ROWS)
    res = load_questions(p)
    assert not res.errors
    assert [q.id for q in res.questions] == ["q1", "2"]
    q = res.questions[1]
    assert q.options == ("A. left", "B. right") and q.ground_truth == "B" and q.row == 2
    assert q.to_question().question_type == "object_rel_direction_easy"


def test_jsonl_malformed_rows_are_collected_with_row_and_field(tmp_path):
    p = tmp_path / "q.jsonl"
    bad = [
        {**ROWS[0], "id": "q3", "question": ""},
        {**ROWS[0], "id": "q4", "options": "[not json"},
        {k: v for k, v in ROWS[0].items() if k != "ground_truth"} | {"id": "q5"},
        {**ROWS[0], "id": "q1"},  # duplicate id
        ["not", "an", "object"],
    ]
    _write_jsonl(p, ROWS + bad, extra_lines=["{broken json"])
    res = load_questions(p)
    assert len(res.questions) == 2
    msgs = [e.message for e in res.errors]
    assert len(msgs) == 6
    assert "row 3 (id q3): field 'question' is missing or empty" in msgs[0]
    assert "field 'options' is malformed" in msgs[1]
    assert "field 'ground_truth' is missing" in msgs[2]
    assert "duplicates row 1" in msgs[3]
    assert "row 7: expected a JSON object" in msgs[4]
    assert "row 8: invalid JSON" in msgs[5]
    assert res.errors[0].id == "q3" and res.errors[0].field == "question"
    with pytest.raises(FormatError, match="row 3"):
        load_questions(p, strict=True)


def test_csv_with_json_python_and_pipe_options(tmp_path):
    p = tmp_path / "q.csv"
    with p.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ROWS[0]))
        w.writeheader()
        w.writerow({**ROWS[0], "options": ""})
        w.writerow({**ROWS[1], "options": json.dumps(ROWS[1]["options"])})
        w.writerow({**ROWS[1], "id": "3", "options": str(ROWS[1]["options"])})
        w.writerow({**ROWS[1], "id": "4", "options": "A. left|B. right"})
        w.writerow({**ROWS[1], "id": "5", "scene_name": ""})
    res = load_questions(p)
    assert [q.options for q in res.questions] == [(), ("A. left", "B. right"), ("A. left", "B. right"),
                                                   ("A. left", "B. right")]
    assert len(res.errors) == 1 and "row 6 (id 5): field 'scene_name'" in res.errors[0].message


def test_parquet_with_null_options_and_idx_alias(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "idx": [0, 1],
        "dataset": ["arkitscenes", "scannet"],
        "scene_name": ["s1", "s2"],
        "question_type": ["room_size_estimation", "object_rel_direction_easy"],
        "question": ["What is the size of this room (in square meters)?", "x?"],
        "options": [None, ["A. left", "B. right"]],
        "ground_truth": ["12.5", "A"],
    })
    p = tmp_path / "q.parquet"
    pq.write_table(table, p)
    res = load_questions(p)
    assert not res.errors
    assert [(q.id, q.options) for q in res.questions] == [("0", ()), ("1", ("A. left", "B. right"))]


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_questions(tmp_path / "nope.jsonl")
    p = tmp_path / "q.txt"
    p.write_text("x")
    with pytest.raises(InputError, match="unknown format"):
        load_questions(p)
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(FormatError, match="not a readable Parquet file"):
        load_questions(bad)
