"""Cold start of `reportqa ask` (process start to answer), `reportqa --help`, `reportqa library`."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.common import reportqa, run_timed


def cold_starts(library: Path, question: str, unread: str, repeats: int) -> dict[str, object]:
    """Wall time of fresh processes: median and minimum of ``repeats`` runs each.

    The first ``ask`` on a new library also builds its search index; it is reported apart (``ask_first_s``).
    ``unread`` is a question the embedding model cannot read, answered without loading the model.
    """
    cli = reportqa()
    ask = [*cli, "ask", question, "--library", str(library), "--mode", "extractive"]
    first = run_timed(ask).checked("reportqa ask")
    result: dict[str, object] = {"command": " ".join(cli), "question": question, "unread_question": unread,
                                 "ask_first_s": first.seconds}
    for name, command in (
        ("help", [*cli, "--help"]),
        ("library", [*cli, "library", "--library", str(library)]),
        ("ask", ask),
        ("ask_unread", [*cli, "ask", unread, "--library", str(library), "--mode", "extractive"]),
    ):
        runs = [run_timed(command).checked(f"reportqa {name}") for _ in range(repeats)]
        seconds = [r.seconds for r in runs]
        result[f"{name}_median_s"] = round(statistics.median(seconds), 3)
        result[f"{name}_min_s"] = round(min(seconds), 3)
        result[f"{name}_max_rss_mib"] = max(r.max_rss_mib for r in runs)
        result[f"{name}_cpu_median_s"] = round(statistics.median(r.cpu_s for r in runs), 3)
    result["ask_answer_head"] = first.stdout.strip().splitlines()[0][:200] if first.stdout.strip() else ""
    return result
