"""A saved evaluation run as typed values: what ``results.json`` holds, read and written in one place.

:func:`eval.report.write_run` makes a :class:`RunResults`; the report, ``reportqa eval --compare`` and the
app's evaluation page read it back with :meth:`RunResults.load`. Each question's row stays the JSON object
the report renders (its question, its full answer with citations and hits, its scores).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LATER_ROW_SCORES", "LATER_SUMMARY", "RESULTS", "RunResults", "SystemResults"]

RESULTS = "results.json"
# Scores added after runs were first saved: a run saved without them reads them as None (not measured).
LATER_ROW_SCORES = ("numeric",)
LATER_SUMMARY = ("numeric_match", "figure_questions", "table_questions", "table_recall", "table_precision",
                 "table_values", "table_brokers", "table_citations", "table_latency_p95_ms")


@dataclass(frozen=True)
class SystemResults:
    """One system's run: the summary metrics, the refusal counts, its time and notes, one row per question."""

    summary: dict[str, Any]
    refusals: dict[str, int]
    seconds: float
    notes: dict[str, Any]
    rows: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "refusals": self.refusals, "seconds": self.seconds,
                "notes": self.notes, "rows": list(self.rows)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SystemResults:
        """A saved system; scores added since (:data:`LATER_ROW_SCORES`, :data:`LATER_SUMMARY`) read as None."""
        summary = dict(data["summary"])
        for key in LATER_SUMMARY:
            summary.setdefault(key, None)
        return cls(summary, dict(data["refusals"]), float(data["seconds"]),
                   dict(data.get("notes", {})), tuple(_with_later_scores(row) for row in data["rows"]))


@dataclass(frozen=True)
class RunResults:
    """A whole run: the set, when and from which commit, the settings and model, the library, each system."""

    format: int
    dataset: dict[str, Any]  # path, name, questions, doc_scope
    started_at: str
    git_commit: str
    settings: dict[str, Any]
    model: dict[str, Any]
    library: dict[str, Any]  # path, documents, ingest
    systems: dict[str, SystemResults]

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "dataset": self.dataset, "started_at": self.started_at,
                "git_commit": self.git_commit, "settings": self.settings, "model": self.model,
                "library": self.library, "systems": {n: s.to_json() for n, s in self.systems.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResults:
        return cls(int(data["format"]), dict(data["dataset"]), str(data["started_at"]), str(data["git_commit"]),
                   dict(data["settings"]), dict(data["model"]), dict(data["library"]),
                   {name: SystemResults.from_json(s) for name, s in data["systems"].items()})

    @classmethod
    def load(cls, path: Path | str) -> RunResults:
        """A saved run: its folder or its ``results.json``."""
        path = Path(path)
        file = path / RESULTS if path.is_dir() else path
        if not file.is_file():
            raise FileNotFoundError(f"no {RESULTS} at {path}; pass a folder written by `reportqa eval --out`")
        return cls.from_json(json.loads(file.read_text(encoding="utf-8")))

    def save(self, folder: Path) -> None:
        (folder / RESULTS).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")


def _with_later_scores(row: dict[str, Any]) -> dict[str, Any]:
    missing = [key for key in LATER_ROW_SCORES if key not in row["scores"]]
    return {**row, "scores": {**row["scores"], **dict.fromkeys(missing)}} if missing else row
