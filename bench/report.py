"""Ratios, targets and the Markdown tables, computed from a results dict of bench.run."""

from __future__ import annotations

from typing import Any

GIB = 1024.0


def ratios(r: dict[str, Any]) -> dict[str, float]:
    """The ratios, on wall time of the whole command and on the job's own time (after start-up)."""
    ingest, encode = r["ingest"], r["encode"]["seconds"]
    pypdf, pdfium = r["extract_pypdf"]["seconds"], r["extract_pypdfium2"]["seconds"]
    return {
        "ingest_vs_pypdf_plus_encode": round(ingest["wall_s"] / (pypdf + encode), 3),
        "ingest_vs_pdfium_plus_encode": round(ingest["wall_s"] / (pdfium + encode), 3),
        "job_vs_pdfium_plus_encode": round(ingest["job_s"] / (pdfium + encode), 3),
        "ingest_vs_llamaindex": round(ingest["wall_s"] / r["baseline"]["wall_s"], 3),
        "job_vs_llamaindex_build": round(ingest["job_s"] / r["baseline"]["build_s"], 3),
        "reingest_fraction": round(r["reingest"]["wall_s"] / ingest["wall_s"], 4),
        "reingest_job_fraction": round(r["reingest"]["job_s"] / ingest["job_s"], 4),
        "embedded_tokens_ingest_vs_llamaindex": round(r["encode"]["tokens"] / r["baseline"]["tokens"], 3),
        # CPU time (user + system, all threads) barely moves with other load on the machine.
        "cpu_ingest_vs_pdfium_plus_encode": _ratio(ingest, (r["extract_pypdfium2"], r["encode"])),
        "cpu_ingest_vs_pypdf_plus_encode": _ratio(ingest, (r["extract_pypdf"], r["encode"])),
        "cpu_ingest_vs_llamaindex": _ratio(ingest, (r["baseline"],)),
    }


def _ratio(step: dict[str, Any], limit: tuple[dict[str, Any], ...]) -> float:
    return round(step["cpu_s"] / sum(s["cpu_s"] for s in limit), 3)


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its measured value and whether it is met (largest library size for latency)."""
    q = r["query"][max(r["query"], key=int)]
    x = ratios(r)
    rows = {
        "ingest / (pypdf + encode)": (x["ingest_vs_pypdf_plus_encode"], 1.15),
        "ingest / (pypdfium2 + encode)": (x["ingest_vs_pdfium_plus_encode"], 1.15),
        "ingest / llama-index pipeline": (x["ingest_vs_llamaindex"], 1.0),
        "re-ingest / first ingest": (x["reingest_fraction"], 0.02),
        f"retrieve p95 ms at {q['chunks']} chunks": (q["retrieve_p95_ms"], 50.0),
        f"answer p95 ms at {q['chunks']} chunks": (q["answer_p95_ms"], 150.0),
        "ingest peak RSS GiB": (round(r["ingest"]["max_rss_mib"] / GIB, 3), 2.0),
        "`reportqa --help` s": (r["startup"]["help_median_s"], 1.0),
        "`reportqa library` s": (r["startup"]["library_median_s"], 1.0),
    }
    return {name: {"value": value, "target": limit, "met": value <= limit}
            for name, (value, limit) in rows.items()}


def markdown(r: dict[str, Any]) -> str:
    """The results as Markdown: targets, ingestion detail, query latency per size, cold starts."""
    m, x = r["machine"], ratios(r)
    lines = [
        f"Run {m['date']} on {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
        f"torch {m['versions']['torch']} ({r['encode']['torch_threads']} threads).",
        "", "| target | measured | limit | met |", "| --- | --- | --- | --- |",
    ]
    lines += [f"| {k} | {v['value']} | ≤ {v['target']} | {'yes' if v['met'] else '**no**'} |"
              for k, v in r["targets"].items()]
    i, e, b, s = r["ingest"], r["encode"], r["baseline"], r["reingest"]
    lines += [
        "", "| ingestion step | wall s | CPU s | detail |", "| --- | --- | --- | --- |",
        f"| `reportqa ingest` | {i['wall_s']} | {i['cpu_s']} | job {i['job_s']} s + start-up "
        f"{i['startup_s']} s (fastest of {i['runs_s']}); "
        f"{i['files']} files, {i['pages']} pages, {i['chunks']} chunks; peak RSS {i['max_rss_mib']} MiB |",
        f"| bare pypdf extraction | {r['extract_pypdf']['seconds']} | {r['extract_pypdf']['cpu_s']} | "
        f"{r['extract_pypdf']['pdf_pages']} PDF pages |",
        f"| bare pypdfium2 extraction | {r['extract_pypdfium2']['seconds']} | "
        f"{r['extract_pypdfium2']['cpu_s']} | "
        "the job's own text reader |",
        f"| bare encode of the job's chunk texts | {e['seconds']} | {e['cpu_s']} | {e['texts']} texts, batch "
        f"{e['batch_size']}, {e['torch_threads']} threads, {e['tokens']} tokens, fastest of {e['runs_s']} "
        "(model load "
        f"{e['model_load_s']} s not counted) |",
        f"| llama-index pipeline | {b['wall_s']} | {b['cpu_s']} | init {b['init_s']} s + build "
        f"{b['build_s']} s, "
        f"{b['nodes']} nodes, {b['tokens']} tokens embedded |",
        f"| unchanged re-ingest | {s['wall_s']} | {s['cpu_s']} | job {s['job_s']} s |",
        "", "| ratio | value |", "| --- | --- |",
    ]
    lines += [f"| {k} | {v} |" for k, v in x.items()]
    lines += [
        "", "| chunks | docs | write s | index build s | index load s | retrieve p50 / p95 ms | "
        "answer p50 / p95 ms | CPU ms p50 / p95: retrieve, answer | RSS MiB (peak) | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, q in sorted(r["query"].items(), key=lambda kv: int(kv[0])):
        load = r["load"].get(f"query_{size}", {})
        lines.append(
            f"| {q['chunks']} | {q['documents']} | {q['build_s']} | {q['index_build_s']} | "
            f"{q['index_load_s']} | {q['retrieve_p50_ms']} / {q['retrieve_p95_ms']} | "
            f"{q['answer_p50_ms']} / {q['answer_p95_ms']} | "
            f"{q['retrieve_cpu_p50_ms']} / {q['retrieve_cpu_p95_ms']}, {q['answer_cpu_p50_ms']} / "
            f"{q['answer_cpu_p95_ms']} | "
            f"{q['rss_mib']} ({q['peak_rss_mib']}) | {load.get('load_before')} → {load.get('load_after')} |"
        )
    st = r["startup"]
    lines += [
        "", "| cold start (median of runs) | wall s | CPU s | peak RSS MiB |", "| --- | --- | --- | --- |",
        f"| `reportqa --help` | {st['help_median_s']} | {st['help_cpu_median_s']} | "
        f"{st['help_max_rss_mib']} |",
        f"| `reportqa library` | {st['library_median_s']} | {st['library_cpu_median_s']} | "
        f"{st['library_max_rss_mib']} |",
        f"| `reportqa ask` (search index on disk) | {st['ask_median_s']} | {st['ask_cpu_median_s']} | "
        f"{st['ask_max_rss_mib']} |",
        f"| `reportqa ask`, a question the model cannot read ({st['unread_question']}) | "
        f"{st['ask_unread_median_s']} | {st['ask_unread_cpu_median_s']} | {st['ask_unread_max_rss_mib']} |",
        f"| `reportqa ask`, first after ingest (builds the search index) | {st['ask_first_s']} | | |",
        "", "| step | load avg before → after | waited s |", "| --- | --- | --- |",
    ]
    lines += [f"| {k} | {v['load_before']} → {v['load_after']} | {v['waited_s']} |"
              for k, v in r["load"].items()]
    return "\n".join(lines) + "\n"
