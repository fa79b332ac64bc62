"""Question sets labelled by file, page and evidence text (never chunk ids), so they survive re-chunking.

One JSON object per line. Besides the project's own format, :func:`load_dataset` reads FinanceBench rows
(``evidence_page_num`` is 0-based) and FinGLM-style rows (``evidence_page_index`` is 0-based) as they come.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DatasetError", "Evidence", "ExpectedRow", "ExpectedTable", "Question", "load_dataset", "save_dataset"]


class DatasetError(ValueError):
    """A row of a question set that cannot be read; the message names ``file:line`` and the problem."""


@dataclass(frozen=True)
class Evidence:
    """Where an answer is found: a document (file name and/or doc id), 1-based pages and optionally the text.

    Empty ``pages`` means "anywhere in the document".
    """

    file: str | None
    doc: str | None
    pages: tuple[int, ...]
    text: str | None = None


@dataclass(frozen=True)
class ExpectedRow:
    """One report a cross-report table answer must list: its file, broker, the asked field's value ("—" where
    the report states none) and the pages and line that print it."""

    file: str
    broker: str
    value: str
    pages: tuple[int, ...] = ()  # the pages printing ``text`` (a repeated summary row is on several)
    text: str | None = None


@dataclass(frozen=True)
class ExpectedTable:
    """The rows a cross-report question's table must hold, one per report, and the field scored in them
    ("rating", "target_price" or "forecast")."""

    field: str
    rows: tuple[ExpectedRow, ...]


@dataclass(frozen=True)
class Question:
    """One question with its accepted answers; ``answers`` is empty when the library cannot answer it.

    ``doc`` scopes the question to one document (file name or doc id). ``kind`` is set only when the evidence
    lives in chunks that retrieval skips by default: ``"boilerplate"`` (rating definitions, disclaimers), so
    a harness asks with that kind included. ``category`` is a free label for per-category breakdowns.
    """

    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool
    evidence: tuple[Evidence, ...]
    doc: str | None = None
    lang: str | None = None
    section: str | None = None
    kind: str | None = None
    category: str | None = None
    table: ExpectedTable | None = None


_OPTIONAL = ("doc", "lang", "section", "kind", "category")
_KEYS = frozenset({"id", "question", "answers", "answerable", "evidence", "table", *_OPTIONAL})
_EVIDENCE_KEYS = frozenset({"file", "doc", "pages", "text"})
_TABLE_FIELDS = frozenset({"rating", "target_price", "forecast"})
_ROW_KEYS = frozenset({"file", "broker", "value", "pages", "text"})


def load_dataset(path: Path | str) -> list[Question]:
    """Read a question set; each row may be our format, a FinanceBench row or a FinGLM-style row.

    Raises :class:`DatasetError` with ``file:line: reason`` for the first bad row or a repeated id.
    """
    path = Path(path)
    questions: list[Question] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("a row must be a JSON object")
                question = _parser_for(row)(row)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise DatasetError(f"{where}: {_reason(error)}") from error
            if question.id in seen:
                raise DatasetError(f"{where}: id {question.id!r} already used on line {seen[question.id]}")
            seen[question.id] = number
            questions.append(question)
    return questions


def save_dataset(questions: Iterable[Question], path: Path | str) -> None:
    """Write questions as JSON Lines in the project's format (UTF-8, unset optional fields left out)."""
    lines = [json.dumps(question_to_dict(q), ensure_ascii=False) for q in questions]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def question_to_dict(question: Question) -> dict[str, Any]:
    """The JSON object for one question in the project's format."""
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "answers": list(question.answers),
        "answerable": question.answerable,
        "evidence": [_evidence_to_dict(e) for e in question.evidence],
    }
    row.update({key: getattr(question, key) for key in _OPTIONAL if getattr(question, key) is not None})
    if question.table is not None:
        row["table"] = {"field": question.table.field, "rows": [
            {k: list(v) if k == "pages" else v for k, v in vars(r).items() if v not in (None, ())}
            for r in question.table.rows]}
    return row


def question_from_dict(row: dict[str, Any]) -> Question:
    """Parse one row of the project's format, checking keys and types."""
    unknown = set(row) - _KEYS
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}; expected some of {sorted(_KEYS)}")
    answers = _strings(row.get("answers", []), "answers")
    answerable = row.get("answerable", bool(answers))
    if not isinstance(answerable, bool):
        raise ValueError(f"'answerable' must be true or false, not {answerable!r}")
    if answerable and not answers:
        raise ValueError("an answerable question needs at least one accepted answer in 'answers'")
    if not answerable and answers:
        raise ValueError("an unanswerable question must have empty 'answers'")
    evidence = row.get("evidence", [])
    if not isinstance(evidence, list):
        raise ValueError("'evidence' must be a list of {file|doc, pages, text} objects")
    optional = {key: _optional_string(row, key) for key in _OPTIONAL}
    return Question(
        id=_required_string(row, "id"),
        question=_required_string(row, "question"),
        answers=answers,
        answerable=answerable,
        evidence=tuple(_evidence_from_dict(item) for item in evidence),
        table=_table_from_dict(row["table"]) if row.get("table") is not None else None,
        **optional,
    )


def _table_from_dict(item: Any) -> ExpectedTable:
    """``{"field": ..., "rows": [{"file", "broker", "value", "pages"?, "text"?}, ...]}``."""
    if not isinstance(item, dict) or set(item) != {"field", "rows"}:
        raise ValueError("'table' must be an object with 'field' and 'rows'")
    if item["field"] not in _TABLE_FIELDS:
        raise ValueError(f"table 'field' must be one of {sorted(_TABLE_FIELDS)}, not {item['field']!r}")
    if not isinstance(item["rows"], list):
        raise ValueError("table 'rows' must be a list")
    rows = []
    for row in item["rows"]:
        if not isinstance(row, dict) or set(row) - _ROW_KEYS or not {"file", "broker", "value"} <= set(row):
            raise ValueError(f"table rows need file, broker and value (and optionally pages, text), not {row!r}")
        pages = row.get("pages", [])
        if not isinstance(pages, list) or not all(
                isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in pages):
            raise ValueError(f"table row 'pages' must be a list of 1-based page numbers, not {pages!r}")
        rows.append(ExpectedRow(_required_string(row, "file"), _required_string(row, "broker"),
                                _required_string(row, "value"), tuple(pages), _optional_string(row, "text")))
    return ExpectedTable(item["field"], tuple(rows))


def _parser_for(row: dict[str, Any]) -> Callable[[dict[str, Any]], Question]:
    if "evidence_page_num" in row or ("doc_name" in row and "answer" in row):
        return _financebench_row
    if "evidence_page_index" in row or "doc_file" in row:
        return _finglm_row
    return question_from_dict


def _financebench_row(row: dict[str, Any]) -> Question:
    """FinanceBench: one ``answer``; ``evidence`` items carry 0-based ``evidence_page_num`` each."""
    doc = _required_string(row, "doc_name")
    file = Path(row["pdf"]).name if row.get("pdf") else None
    items = row.get("evidence") or [
        {"evidence_page_num": page, "evidence_text": row.get("evidence_text")}
        for page in _zero_based(row.get("evidence_page_num", []), "evidence_page_num")
    ]
    evidence = tuple(
        Evidence(
            file=file,
            doc=doc,
            pages=tuple(p + 1 for p in _zero_based(item.get("evidence_page_num", []), "evidence_page_num")),
            text=item.get("evidence_text") or None,
        )
        for item in items
    )
    return Question(
        id=str(_required_string(row, "id")),
        question=_required_string(row, "question"),
        answers=(_required_string(row, "answer"),),
        answerable=True,
        evidence=evidence,
        lang="en",
        category=_financebench_category(row),
    )


def _financebench_category(row: dict[str, Any]) -> str | None:
    """FinanceBench's question type; a domain-relevant question that needs numerical reasoning is a figure
    question too ("domain-relevant numerical"), beside the metrics-generated ones."""
    kind = row.get("question_type")
    if kind == "domain-relevant" and "numerical" in str(row.get("question_reasoning") or "").casefold():
        return "domain-relevant numerical"
    return kind


def _finglm_row(row: dict[str, Any]) -> Question:
    """FinGLM-style: the key answer (``metadata.prompt.prom_answer``) first, then the accepted phrasings."""
    prompt = (row.get("metadata") or {}).get("prompt") or {}
    phrasings = [prompt.get("prom_answer"), *(row.get("answers") or [row.get("answer")])]
    answers = tuple(dict.fromkeys(str(a) for a in phrasings if a))
    if not answers:
        raise ValueError("row has neither 'answers' nor 'answer'")
    doc_file = row.get("doc_file")
    evidence = Evidence(
        file=Path(doc_file).name if doc_file else None,
        doc=row.get("doc_id"),
        pages=tuple(p + 1 for p in _zero_based(row.get("evidence_page_index") or [], "evidence_page_index")),
        text=row.get("evidence_text") or None,
    )
    return Question(
        id=_required_string(row, "id"),
        question=_required_string(row, "question"),
        answers=answers,
        answerable=True,
        evidence=(evidence,),
        lang="zh",
        category=row.get("question_type"),
    )


def _evidence_from_dict(item: Any) -> Evidence:
    if not isinstance(item, dict):
        raise ValueError(f"evidence items must be objects, not {item!r}")
    unknown = set(item) - _EVIDENCE_KEYS
    if unknown:
        raise ValueError(f"unknown evidence field(s) {sorted(unknown)}; expected {sorted(_EVIDENCE_KEYS)}")
    file, doc = _optional_string(item, "file"), _optional_string(item, "doc")
    if not file and not doc:
        raise ValueError("each evidence item needs a 'file' or a 'doc'")
    pages = item.get("pages", [])
    if not isinstance(pages, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in pages
    ):
        raise ValueError(f"evidence 'pages' must be a list of 1-based page numbers, not {pages!r}")
    return Evidence(file=file, doc=doc, pages=tuple(pages), text=_optional_string(item, "text"))


def _evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    row: dict[str, Any] = {key: getattr(evidence, key) for key in ("file", "doc") if getattr(evidence, key)}
    row["pages"] = list(evidence.pages)
    if evidence.text is not None:
        row["text"] = evidence.text
    return row


def _zero_based(value: Any, name: str) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ValueError(f"'{name}' must hold 0-based page indices, not {value!r}")
    return values


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"'{name}' must be a list of non-empty strings, not {value!r}")
    return tuple(value)


def _required_string(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and key == "id":
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"missing or empty '{key}'")
    return value


def _optional_string(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string, not {value!r}")
    return value or None


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error.msg} at column {error.colno})"
    if isinstance(error, KeyError):
        return f"missing field {error}"
    return str(error)
