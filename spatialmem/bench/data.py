"""Load benchmark questions in the VSI-Bench schema from JSONL, Parquet or CSV.

Row schema: ``id, dataset, scene_name, question_type, question, options, ground_truth``
(``options`` a list of ``"A. text"`` strings, or empty / null for numeric questions; in CSV a JSON
list, a Python-literal list, or ``|``-separated text). ``id`` may be an int (VSI-Bench's ``idx``
column is accepted as an alias). A malformed row never stops loading: it becomes a
:class:`RowError` naming the file, row and field, and the runner records a failure for it.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from spatialmem.agent.base import Question
from spatialmem.errors import FormatError, InputError, require_package
from spatialmem.fsutil import read_user_bytes, require_file

REQUIRED_FIELDS: tuple[str, ...] = ("id", "scene_name", "question", "ground_truth")


@dataclass(frozen=True)
class BenchQuestion:
    """One benchmark question with its answer.

    Attributes:
        id: unique id (string).
        scene_name: the memory to ask (``DIR/<scene_name>``).
        question_type: VSI-Bench type, or ``""`` when the row has none.
        question: the question text.
        options: option strings (empty for numeric).
        ground_truth: option letter or number string.
        dataset: source dataset name.
        row: 1-based row number in the file.
    """

    id: str
    scene_name: str
    question_type: str
    question: str
    options: tuple[str, ...]
    ground_truth: str
    dataset: str = ""
    row: int = 0

    def to_question(self) -> Question:
        """The planner-facing :class:`Question`."""
        return Question(text=self.question, options=self.options, question_type=self.question_type or None, id=self.id)


@dataclass(frozen=True)
class RowError:
    """A row that could not be read: where, which field, and why."""

    row: int
    field: str
    message: str
    id: str | None = None
    scene_name: str | None = None
    question_type: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class LoadResult:
    """Questions read from a file plus the rows that were malformed."""

    path: Path
    questions: list[BenchQuestion] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _parse_options(value: object) -> tuple[str, ...]:
    """Options from a list, a JSON / Python-literal list string, or ``|``-separated text."""
    if _is_missing(value):
        return ()
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in ("none", "null", "nan", "[]"):
            return ()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError) as exc:
                    raise ValueError(f"not a list: {text[:60]!r}") from exc
        else:
            value = [p for p in (s.strip() for s in text.split("|")) if p]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of strings, got {type(value).__name__}")
    out = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"option {item!r} is not a string")
        out.append(item.strip())
    return tuple(out)


def _scalar_text(value: object) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value).strip()


def parse_row(raw: object, row: int, where: str) -> BenchQuestion | RowError:
    """Validate one raw row (a dict) into a :class:`BenchQuestion` or a :class:`RowError`."""
    if not isinstance(raw, dict):
        return RowError(row, "<row>", f"{where} row {row}: expected a JSON object, got {type(raw).__name__}")
    data = dict(raw)
    if "id" not in data and "idx" in data:
        data["id"] = data["idx"]
    rid = _scalar_text(data.get("id")) or None
    scene = _scalar_text(data.get("scene_name")) or None
    qtype = _scalar_text(data.get("question_type"))

    def err(fld: str, why: str) -> RowError:
        msg = f"{where} row {row} (id {rid or '?'}): field '{fld}' {why}"
        return RowError(row, fld, msg, rid, scene, qtype or None)

    for name in REQUIRED_FIELDS:
        if _is_missing(data.get(name)) or _scalar_text(data.get(name)) == "":
            return err(name, "is missing or empty")
    if not isinstance(data["question"], str):
        return err("question", f"must be text, got {type(data['question']).__name__}")
    try:
        options = _parse_options(data.get("options"))
    except ValueError as exc:
        return err("options", f"is malformed: {exc}")
    return BenchQuestion(
        id=rid or "",
        scene_name=scene or "",
        question_type=qtype,
        question=data["question"],
        options=options,
        ground_truth=_scalar_text(data["ground_truth"]),
        dataset=_scalar_text(data.get("dataset")),
        row=row,
    )


class _BadRow(Exception):
    """A row that cannot even be decoded: the field it concerns and why."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(why)
        self.field = field


def _iter_jsonl(path: Path) -> Iterator[tuple[int, object]]:
    """Rows of a JSONL file; each line is decoded on its own, so one bad line is one row error."""
    data = read_user_bytes(path, "question file")
    if data.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte-order mark
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, _BadRow("<encoding>", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                                                f"{exc.start + 1}); save the file as UTF-8")
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, _BadRow("<json>", f"invalid JSON ({exc})")
        except RecursionError:
            yield lineno, _BadRow("<json>", "invalid JSON (nested too deeply to be a question)")


_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)


def _iter_csv(path: Path) -> Iterator[tuple[int, object]]:
    """Rows of a CSV file; a row holding bytes that are not UTF-8 becomes a row error naming the field."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        for i, rec in enumerate(reader, start=2):  # row 1 is the header
            row = {k: v for k, v in rec.items() if k is not None}
            bad = [k for k, v in row.items() if _UNDECODED.search(k) or (isinstance(v, str) and _UNDECODED.search(v))]
            if bad:
                yield i, _BadRow(ascii(bad[0]), f"field {ascii(bad[0])} is not UTF-8 text; save the file as UTF-8")
            else:
                yield i, row


def _iter_parquet(path: Path) -> Iterator[tuple[int, object]]:
    pq = require_package("pyarrow.parquet", "bench", "reading Parquet question files")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for broken files
        raise FormatError(f"{path}: not a readable Parquet file ({exc})") from exc
    yield from enumerate(table.to_pylist(), start=1)


def load_questions(path: str | Path, strict: bool = False) -> LoadResult:
    """Read a question file; the format follows the suffix (.jsonl/.json, .parquet, .csv).

    Args:
        path: the file.
        strict: raise :class:`FormatError` on the first malformed row instead of collecting it.

    Raises:
        InputError: the file does not exist or has an unknown suffix.
        FormatError: unreadable file; duplicate ids; any malformed row when ``strict``.
    """
    p = Path(path)
    require_file(p, "question file")
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _iter_jsonl(p)
    elif suffix == ".csv":
        rows = _iter_csv(p)
    elif suffix in (".parquet", ".pq"):
        rows = _iter_parquet(p)
    else:
        raise InputError(f"question file {p}: unknown format {suffix!r}; use .jsonl, .parquet or .csv")
    result = LoadResult(path=p)
    seen: dict[str, int] = {}
    error_ids: set[str] = set()
    for row, raw in rows:
        if isinstance(raw, _BadRow):
            item: BenchQuestion | RowError = RowError(row, raw.field, f"{p} row {row}: {raw}")
        else:
            item = parse_row(raw, row, str(p))
        if isinstance(item, BenchQuestion) and item.id in seen:
            item = RowError(
                row, "id", f"{p} row {row}: id {item.id!r} duplicates row {seen[item.id]}", f"{item.id}@row{row}",
                item.scene_name
            )
        if isinstance(item, RowError):
            if strict:
                raise FormatError(item.message)
            if item.id is not None and (item.id in seen or item.id in error_ids):
                item = replace(item, id=f"{item.id}@row{row}")  # never shares an id with another row
            if item.id is not None:
                error_ids.add(item.id)
            result.errors.append(item)
        else:
            seen[item.id] = row
            result.questions.append(item)
    # a malformed row that came before a valid row with its id gets the duplicate-id treatment too
    result.errors[:] = [replace(e, id=f"{e.id}@row{e.row}") if e.id in seen else e for e in result.errors]
    return result
