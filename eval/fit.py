"""Fit the ranking weights on a calibration half of the question sets and report them on the other half.

Procedure (``python -m eval.fit``; docs/results.md records a run):

1. Each answerable, labelled question of every set goes to the calibration half or the test half by a
   hash of its id (stable: adding a question never moves another).
2. Every :class:`rag.retrieve.Ranking` of the grid ranks every calibration question (retrieval only,
   the question's embedding computed once). Its score on a set is the mean of page hit@1, hit@5 and
   MRR (text hits where the evidence is not paged); the grid point with the best mean over the sets
   wins, so one large set cannot outvote the others.
3. The winner and the current defaults are then scored on the test half, which took no part in the
   choice, and on everything.

A weight added later is fitted alone, the others as they are: ``--grid coverage=0,0.1,0.2`` (repeatable)
replaces the grid.

A set is ``NAME=DATASET.jsonl@LIBRARY[:noscope]``: ``noscope`` asks every question of the whole library
(FinanceBench's one shared store), otherwise questions keep their document scope.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from eval.datasets import Question, load_dataset
from eval.harness import resolve_scopes, scope_filters, text_reciprocal_rank
from eval.metrics import page_hit_at, paged, reciprocal_rank, text_hit_at
from rag.library import Library
from rag.retrieve import Ranking, retrieve
from rag.settings import Settings

__all__ = ["EvalSet", "GRID", "calibration", "fit", "measure", "parse_grid"]

GRID = {"dense": (0.5, 1.0, 1.5), "page": (0.0, 0.5), "page_rest": (0.0,),
        "expansion": (0.0, 0.3), "statement": (0.25, 0.5, 1.0), "translation": (0.5, 1.0), "caption": (1.0, 0.5)}
DEPTH = 10


@dataclass(frozen=True)
class EvalSet:
    name: str
    library: Library
    questions: tuple[Question, ...]
    use_doc: bool


def calibration(question: Question) -> bool:
    """Whether ``question`` belongs to the calibration half (by a hash of its id)."""
    return hashlib.sha256(question.id.encode()).digest()[0] % 2 == 0


def measure(evalset: EvalSet, ranking: Ranking, questions: Sequence[Question]) -> dict[str, float]:
    """Mean hit@1, hit@5 and MRR of ``ranking`` on ``questions`` (page hits, else text hits)."""
    scopes = resolve_scopes(questions, evalset.library, evalset.use_doc)
    totals = {"hit@1": 0.0, "hit@5": 0.0, "mrr": 0.0}
    count = 0
    for question in questions:
        hits = retrieve(evalset.library, question.question, k=DEPTH, filters=scope_filters(question, scopes),
                        ranking=ranking).hits
        if all(e.pages and paged(e) for e in question.evidence):
            totals["hit@1"] += page_hit_at(hits, question.evidence, 1)
            totals["hit@5"] += page_hit_at(hits, question.evidence, 5)
            totals["mrr"] += reciprocal_rank(hits, question.evidence)
        else:
            totals["hit@1"] += bool(text_hit_at(hits, question.evidence, 1))
            totals["hit@5"] += bool(text_hit_at(hits, question.evidence, 5))
            totals["mrr"] += text_reciprocal_rank(hits, question.evidence) or 0.0
        count += 1
    return {k: round(v / count, 3) for k, v in totals.items()} | {"n": count} if count else {"n": 0}


def _objective(results: Sequence[dict[str, float]]) -> float:
    return sum((r["hit@1"] + r["hit@5"] + r["mrr"]) / 3 for r in results if r["n"]) / max(1, len(results))


def fit(sets: Sequence[EvalSet], grid: Mapping[str, Sequence[float]] = GRID) -> dict:
    """The grid point best on the calibration halves, and it and the defaults on test halves and all."""
    halves = {s.name: ([q for q in s.questions if calibration(q)], [q for q in s.questions if not calibration(q)])
              for s in sets}
    tried = []
    for values in itertools.product(*grid.values()):
        params: dict[str, Any] = dict(zip(grid, values))
        ranking = Ranking(**params)
        results = [measure(s, ranking, halves[s.name][0]) for s in sets]
        tried.append((_objective(results), ranking, results))
    tried.sort(key=lambda t: -t[0])
    best = tried[0][1]
    report = {"grid": grid, "best": asdict(best), "calibration_objective": round(tried[0][0], 4),
              "top": [{"ranking": asdict(r), "objective": round(o, 4)} for o, r, _ in tried[:5]]}
    for label, ranking in (("fitted", best), ("default", Ranking())):
        report[label + "_scores"] = {
            s.name: {"calibration": measure(s, ranking, halves[s.name][0]),
                     "test": measure(s, ranking, halves[s.name][1])} for s in sets}
    return report


def parse_set(spec: str) -> tuple[str, Path, Path, bool]:
    """``NAME=DATASET.jsonl@LIBRARY[:noscope]`` -> (name, dataset, library folder, use the doc scope)."""
    name, rest = spec.split("=", 1)
    dataset, library_spec = rest.split("@", 1)
    path, _, flag = library_spec.partition(":")
    return name, Path(dataset), Path(path), flag != "noscope"


def run_cli(prog: str, doc: str, work: Callable[[argparse.Namespace], dict], argv: Sequence[str] | None,
            *, grid: bool = False) -> int:
    """The command line both fits share: sets in, the report as JSON out (and to ``--out``); with ``grid``,
    ``--grid FIELD=V1,V2`` (repeatable) fits those fields alone, the others at their defaults."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="NAME=DATASET.jsonl@LIBRARY[:noscope]")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    if grid:
        parser.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                            help="fit only these Ranking fields over these values (default: the whole GRID)")
    args = parser.parse_args(argv)
    text = json.dumps(work(args), ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _load(spec: str) -> EvalSet:
    name, dataset, path, use_doc = parse_set(spec)
    library = Library(Settings.load(library=path))
    embedder = library.embedder
    embedder.encode_one = lru_cache(maxsize=None)(embedder.encode_one)  # type: ignore[method-assign]  # one encoding per question
    questions = tuple(q for q in load_dataset(dataset) if q.answerable and q.evidence)
    return EvalSet(name, library, questions, use_doc=use_doc)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("python -m eval.fit", __doc__ or "",
                   lambda args: fit([_load(s) for s in args.sets], parse_grid(args.grid) or GRID), argv, grid=True)


def parse_grid(specs: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """``["coverage=0,0.1,0.2"]`` -> ``{"coverage": (0.0, 0.1, 0.2)}``: the fields of one fit at a time."""
    grid = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in Ranking.__dataclass_fields__ or not values:
            raise SystemExit(f"--grid {spec}: expected FIELD=V1,V2,... with a field of rag.retrieve.Ranking")
        grid[name] = tuple(float(v) for v in values.split(","))
    return grid


if __name__ == "__main__":
    raise SystemExit(main())
