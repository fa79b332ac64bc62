"""Fit the evidence gate's thresholds on a calibration half; report them, and the refusal curve, on the rest.

Procedure (``python -m eval.fit_gate``; docs/results.md records a run):

1. Every question of every set is retrieved once and its evidence measured once
   (:func:`rag.evidence.strength`: missing names/years, best weighted coverage, best sentence similarity
   where the model reads it). A question with no hits, or about a company the library does not know
   (:func:`rag.evidence.unknown_subject`), is refused whatever the thresholds, as the gate does.
2. Questions go to the calibration or the test half by a hash of their id (:func:`eval.fit.calibration`).
3. Every :class:`rag.evidence.Thresholds` of the grid is scored on the calibration half by the share of
   answerable questions it answers and the share of unanswerable (and off-topic) ones it refuses, each
   averaged over the sets (:func:`rates`: the 40 off-topic questions of a library, most of them refused
   whatever the thresholds, must not hide a report's own unanswerable questions). Among the thresholds
   that refuse at least :data:`REFUSE_FLOOR` of them, the one that answers the most wins; if none does,
   the one that refuses the most. Ties go to the stricter gate. (An earlier procedure maximised the
   balanced accuracy, the mean of the two shares pooled over all questions: that trades a wrong answer for
   a right one, while the product holds a floor on refusals and answers as much as it can above it.)
4. Steps 1-3 run once for each credit of :data:`RENDERED_GRID` (:data:`rag.evidence.RENDERED`: the share of
   a key word's weight a passage earns by saying it in the other language only); the credit whose
   thresholds answer the most of the calibration half at the floor wins, ties to the smaller credit.
5. The winner and the current defaults are reported on the test half and on everything, with the curve
   of wrong vs correct refusals as the coverage threshold moves.

A set is ``NAME=DATASET.jsonl@LIBRARY[:noscope]`` as in :mod:`eval.fit`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.datasets import load_dataset
from eval.fit import calibration, parse_set, run_cli
from eval.harness import resolve_scopes, scope_filters
from rag import evidence as gate_rules
from rag.answer import gather_evidence
from rag.evidence import Strength, Thresholds, passes, strength, unknown_subject
from rag.extractive import best_similarity
from rag.library import Library
from rag.settings import Settings

__all__ = ["GRID", "Measured", "fit_gate", "measure_set"]

REFUSE_FLOOR = 0.9  # the share of unanswerable and off-topic questions the gate must refuse
GRID = {"evidence": tuple(round(0.30 + 0.05 * i, 2) for i in range(9)),          # 0.30 … 0.70
        "dense_coverage": tuple(round(0.15 + 0.05 * i, 2) for i in range(7)),    # 0.15 … 0.45
        "similarity": tuple(round(0.40 + 0.05 * i, 2) for i in range(7))}        # 0.40 … 0.70
# The credit of a word a passage says only in the other language (rag.evidence.RENDERED), fitted with them.
RENDERED_GRID = (0.0, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Measured:
    set: str
    id: str
    answerable: bool
    calibration: bool
    strength: Strength | None  # None: nothing retrieved (always refused)


def measure_set(name: str, dataset: Path, library: Library, use_doc: bool) -> list[Measured]:
    questions = load_dataset(dataset)
    scopes = resolve_scopes(questions, library, use_doc)
    out = []
    for question in questions:
        evidence = gather_evidence(library, question.question, scope_filters(question, scopes))
        measured = None
        if evidence.hits and (absent := unknown_subject(evidence)):
            measured = Strength(missing=absent)  # refused before the thresholds, as rag.evidence.gate does
        elif evidence.hits:
            found = strength(evidence)
            similarity = best_similarity(evidence, library.embedder) if not found.missing else None
            # the default argument binds this question's value; mypy cannot type a lambda's default
            measured = Strength(found.covered, found.missing, "", lambda s=similarity: s)  # type: ignore[misc]
        out.append(Measured(name, question.id, question.answerable, calibration(question), measured))
    return out


def _answered(item: Measured, thresholds: Thresholds) -> bool:
    return item.strength is not None and passes(item.strength, thresholds)


def rates(items: Sequence[Measured], thresholds: Thresholds) -> dict[str, float | int | None]:
    """Per-set-averaged rates: answerable answered, unanswerable refused, and their mean."""
    answered, refused = [], []
    for name in dict.fromkeys(i.set for i in items):
        mine = [i for i in items if i.set == name]
        yes = [i for i in mine if i.answerable]
        no = [i for i in mine if not i.answerable]
        if yes:
            answered.append(sum(_answered(i, thresholds) for i in yes) / len(yes))
        if no:
            refused.append(sum(not _answered(i, thresholds) for i in no) / len(no))
    a = sum(answered) / len(answered) if answered else None
    r = sum(refused) / len(refused) if refused else None
    both = [x for x in (a, r) if x is not None]
    return {"answered": _round(a), "refused": _round(r), "balanced": _round(sum(both) / len(both)) if both else None,
            "answerable": sum(i.answerable for i in items), "unanswerable": sum(not i.answerable for i in items)}


def shares(items: Sequence[Measured], thresholds: Thresholds) -> tuple[float, float]:
    """Over all questions: the share of answerable ones answered, and of unanswerable ones refused."""
    yes = [i for i in items if i.answerable]
    no = [i for i in items if not i.answerable]
    answered = sum(_answered(i, thresholds) for i in yes) / len(yes) if yes else 1.0
    refused = sum(not _answered(i, thresholds) for i in no) / len(no) if no else 1.0
    return answered, refused


def pooled(items: Sequence[Measured], thresholds: Thresholds) -> float:
    """Balanced accuracy over all questions: mean of answerable answered and unanswerable refused."""
    return sum(shares(items, thresholds)) / 2


def per_set(items: Sequence[Measured], thresholds: Thresholds) -> dict[str, dict]:
    return {name: rates([i for i in items if i.set == name], thresholds) for name in dict.fromkeys(i.set for i in items)}


def fit_gate(items: Sequence[Measured], grid: Mapping[str, Sequence[float]] = GRID) -> dict:
    calib = [i for i in items if i.calibration]
    test = [i for i in items if not i.calibration]
    tried = []
    for values in itertools.product(*grid.values()):
        thresholds = Thresholds(**dict(zip(grid, values)))
        if thresholds.dense_coverage > thresholds.evidence:
            continue
        measured = rates(calib, thresholds)
        answered, refused = float(measured["answered"] or 0.0), float(measured["refused"] or 0.0)
        floor_held = refused >= REFUSE_FLOOR
        # ties: the stricter gate (higher thresholds) wins, it guesses less
        tried.append((floor_held, answered if floor_held else refused, thresholds.evidence,
                      thresholds.dense_coverage, thresholds.similarity, thresholds))
    tried.sort(key=lambda t: (-t[0], -t[1], -t[2], -t[3], -t[4]))
    best = tried[0][5]
    curve = []
    for evidence in grid["evidence"]:
        point = Thresholds(evidence, min(best.dense_coverage, evidence), best.similarity)
        curve.append({"evidence": evidence, **{k: v for k, v in rates(test, point).items()
                                                  if k in ("answered", "refused")}})
    report: dict[str, Any] = {"grid": {k: list(v) for k, v in grid.items()}, "thresholds": asdict(best)}
    for label, thresholds in (("fitted", best), ("default", Thresholds())):
        report[label] = {"pooled": {"calibration": round(pooled(calib, thresholds), 3),
                                    "test": round(pooled(test, thresholds), 3)},
                         "shares": {"calibration": [round(x, 3) for x in shares(calib, thresholds)],
                                    "test": [round(x, 3) for x in shares(test, thresholds)]},
                         "calibration": rates(calib, thresholds), "test": rates(test, thresholds),
                         "all": rates(items, thresholds), "per_set_all": per_set(items, thresholds)}
    report["test_curve"] = curve
    hard = [i for i in items if i.answerable and (i.strength is None or i.strength.missing)]
    report["answerable_refused_whatever_thresholds"] = {
        "nothing_retrieved": sum(i.strength is None for i in hard),
        "names_or_years_missing": sum(i.strength is not None for i in hard), "of": sum(i.answerable for i in items)}
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _measure_all(specs: list[str]) -> dict:
    """Measure every set once per credit of :data:`RENDERED_GRID`, fit the thresholds under each, and keep
    the credit whose fitted thresholds answer the most of the calibration half at the refusal floor."""
    libraries: dict[Path, Library] = {}
    default = gate_rules.RENDERED
    fits = {}
    for credit in RENDERED_GRID:
        gate_rules.RENDERED = credit  # read by rag.evidence.credited at each call
        items: list[Measured] = []
        for spec in specs:
            name, dataset, path, use_doc = parse_set(spec)
            library = libraries.setdefault(path, Library(Settings.load(library=path)))
            items += measure_set(name, dataset, library, use_doc=use_doc)
        fits[credit] = fit_gate(items)
    gate_rules.RENDERED = default

    def calibrated(credit: float) -> tuple[bool, float, float]:
        measured = fits[credit]["fitted"]["calibration"]
        held = (measured["refused"] or 0.0) >= REFUSE_FLOOR
        return held, (measured["answered"] if held else measured["refused"]) or 0.0, -credit  # ties: less credit

    best = max(fits, key=calibrated)
    return {**fits[best], "rendered": best, "rendered_default": default,
            "rendered_grid": {str(c): {"thresholds": f["thresholds"], "calibration": f["fitted"]["calibration"],
                                       "test": f["fitted"]["test"]} for c, f in fits.items()}}


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("python -m eval.fit_gate", __doc__ or "", lambda args: _measure_all(args.sets), argv)


if __name__ == "__main__":
    raise SystemExit(main())
