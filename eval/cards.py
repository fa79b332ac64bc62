"""Field accuracy of broker-report cards against the project's gold cards (``eval/datasets/broker_cards.jsonl``).

``python -m eval.cards [--benchmarks DIR] [--misses]``: reads every gold card's PDF the way ingestion does
(load without OCR, clean, :func:`ingest.metadata.extract_metadata`) and prints, per field and overall, how
many cards the extractor got right, as a markdown table. Twice: with the library's file names
("YYYYMMDD-券商-标题.pdf", as users name them) and with the names hidden (every file called "report.pdf"),
which measures what the pages alone give.

A field is right when it matches the gold value after light normalisation, and an absent value (``""``/``[]``
in the gold card) is right only when the extractor also leaves it absent. Titles match when one contains the
other and is at least half as long (a subtitle or series label more or less); companies when one contains the
other ("Tencent" for "Tencent Holdings");
target prices compare as numbers; analysts compare as sets of names.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FIELDS", "GOLD", "HEADLINE", "CardScores", "GoldCard", "load_cards", "read_pages", "score_cards"]

GOLD = Path(__file__).resolve().parent / "datasets" / "broker_cards.jsonl"
BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "broker-reports"
FIELDS = ("broker", "date", "title", "report_kind", "analysts", "company", "ticker", "rating", "rating_action",
          "target_price", "target_currency", "previous_target")
HEADLINE = ("broker", "date", "rating", "target_price", "ticker")
REPORT_KINDS = ("公司点评", "公司深度", "行业点评", "行业深度", "行业周报", "策略", "宏观", "固收", "金融工程", "期货")
META_NAME = {"broker": "publisher"}  # gold field -> metadata key where they differ


@dataclass(frozen=True)
class GoldCard:
    """One report's card as read from its rendered first page: ``values[field]`` is "" where not stated."""

    file: str
    values: Mapping[str, str]
    analysts: tuple[str, ...]


@dataclass(frozen=True)
class CardScores:
    """Per field: how many cards are right, of how many, and of those stating it, how many are right."""

    right: Mapping[str, int]
    stated_right: Mapping[str, int]
    stated: Mapping[str, int]
    cards: int
    misses: tuple[tuple[str, str, str, str], ...]  # (file, field, gold, extracted)

    def accuracy(self, fields: Sequence[str] = FIELDS) -> float:
        """Share of right (card, field) pairs over ``fields``."""
        return sum(self.right[f] for f in fields) / (self.cards * len(fields)) if self.cards else 0.0


def load_cards(path: Path = GOLD) -> list[GoldCard]:
    """The gold cards; a card missing a field or with an unknown one is an error naming its line."""
    cards = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if set(row) != {"file", *FIELDS}:
            raise ValueError(f"{path}:{number}: fields must be file + {', '.join(FIELDS)}; got {sorted(row)}")
        values = {f: row[f] for f in FIELDS if f != "analysts"}
        cards.append(GoldCard(row["file"], values, tuple(row["analysts"])))
    return cards


def read_pages(path: Path) -> tuple[list[str], dict[str, str]]:
    """The cleaned pages and PDF info of ``path``, read as ingestion reads them (no OCR)."""
    from ingest.clean import clean_pages
    from ingest.loaders import load

    loaded = load(path, ocr=False)
    return clean_pages(loaded.pages, loaded.fmt), dict(loaded.info)


def score_cards(cards: Sequence[GoldCard], extracted: Mapping[str, Mapping[str, str]]) -> CardScores:
    """Compare each gold card with ``extracted[file]`` (metadata as :func:`extract_metadata` returns it)."""
    right = dict.fromkeys(FIELDS, 0)
    stated_right = dict.fromkeys(FIELDS, 0)
    stated = dict.fromkeys(FIELDS, 0)
    misses = []
    for card in cards:
        meta = extracted[card.file]
        for field in FIELDS:
            got = meta.get(META_NAME.get(field, field), "")
            gold = "; ".join(card.analysts) if field == "analysts" else card.values[field]
            ok = _SAME.get(field, _same_text)(gold, got) if gold else not got
            right[field] += ok
            stated[field] += bool(gold)
            stated_right[field] += ok and bool(gold)
            if not ok:
                misses.append((card.file, field, gold, got))
    return CardScores(right, stated_right, stated, len(cards), tuple(misses))


def markdown(named: CardScores, hidden: CardScores) -> str:
    """The table docs/results.md records: per field, then the headline fields and all fields pooled."""
    rows = ["| field | right (file names as in the library) | accuracy | on cards stating it | "
            "accuracy, file names hidden |", "| --- | --- | --- | --- | --- |"]
    for field in FIELDS:
        mark = "**" if field in HEADLINE else ""
        rows.append(f"| {mark}{field}{mark} | {named.right[field]}/{named.cards} | {named.accuracy([field]):.3f} | "
                    f"{named.stated_right[field]}/{named.stated[field]} | {hidden.accuracy([field]):.3f} |")
    rows.append(f"| headline fields ({', '.join(HEADLINE)}) | | {named.accuracy(HEADLINE):.3f} | | "
                f"{hidden.accuracy(HEADLINE):.3f} |")
    rows.append(f"| all fields | | {named.accuracy():.3f} | | {hidden.accuracy():.3f} |")
    return "\n".join(rows)


def run(benchmarks: Path, gold: Path = GOLD) -> tuple[CardScores, CardScores]:
    """Scores with the library's file names and with the names hidden."""
    from ingest.metadata import extract_metadata

    cards = load_cards(gold)
    files = {Path(row["file"]).name: benchmarks / row["file"]
             for row in map(json.loads, (benchmarks / "documents.jsonl").read_text(encoding="utf-8").splitlines())}
    named, hidden = {}, {}
    for card in cards:
        pages, info = read_pages(files[card.file])
        named[card.file] = extract_metadata(pages, card.file, info)
        hidden[card.file] = extract_metadata(pages, "report.pdf", info)
    return score_cards(cards, named), score_cards(cards, hidden)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.cards", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="the broker-reports folder")
    parser.add_argument("--gold", type=Path, default=GOLD, help="the gold cards (JSON Lines)")
    parser.add_argument("--misses", action="store_true", help="also list every wrong field")
    args = parser.parse_args(argv)
    named, hidden = run(args.benchmarks, args.gold)
    out = [markdown(named, hidden)]
    if args.misses:
        out += ["", "| file | field | gold | extracted |", "| --- | --- | --- | --- |"]
        out += [f"| {f} | {field} | {g} | {e} |" for f, field, g, e in named.misses]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


# --- Field comparisons ---------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).casefold()


def _same_text(gold: str, got: str) -> bool:
    return _squash(gold) == _squash(got)


def _contains(gold: str, got: str) -> bool:
    g, e = _squash(gold), _squash(got)
    return bool(e) and (g in e or e in g)


def _same_title(gold: str, got: str) -> bool:
    """One contains the other and the shorter is at least half the longer (a subtitle or series label more or
    less, not a fragment)."""
    g, e = _squash(gold), _squash(got)
    return _contains(gold, got) and min(len(g), len(e)) * 2 >= max(len(g), len(e))


def _same_number(gold: str, got: str) -> bool:
    try:
        return float(gold.replace(",", "")) == float(got.replace(",", ""))
    except ValueError:
        return False


def _same_people(gold: str, got: str) -> bool:
    def names(text: str) -> set[str]:
        return {_squash(re.sub(r"\(.*?\)", "", name)) for name in text.split(";") if name.strip()}
    return names(gold) == names(got)


_SAME: dict[str, Callable[[str, str], bool]] = {
    "title": _same_title, "company": _contains, "analysts": _same_people,
    "target_price": _same_number, "previous_target": _same_number,
}


if __name__ == "__main__":
    raise SystemExit(main())
