"""The `reportqa` command line: the edge where the environment is read; heavy imports stay lazy."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any


def _settings(args: argparse.Namespace, *, existing: bool = True):  # rag.settings.Settings
    """The settings of this command; with ``existing``, NoLibraryError unless the library exists (only
    commands that ingest may create one, so a mistyped --library is an error, not an empty library)."""
    from rag.settings import Settings
    from rag.store import require_library

    settings = Settings.load(
        library=getattr(args, "library", None),
        embed_model=getattr(args, "embed_model", None),
        chunk_size=getattr(args, "chunk_size", None),
        chroma_url=getattr(args, "chroma_url", None),
    )
    if existing:
        require_library(settings)
    return settings


def _library(args: argparse.Namespace, *, existing: bool = True):  # rag.library.Library
    from rag.library import Library

    return Library(_settings(args, existing=existing))


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.job import ingest_paths
    from reportqa.progress import ingest_progress

    library = _library(args, existing=False)
    if args.rebuild:
        library.reset()
    progress = ingest_progress()
    try:
        summary = ingest_paths(library, args.paths, prune=args.prune, progress=progress)
    finally:
        progress.close()
    if summary.embedded == 0 and summary.ok:
        print("nothing to embed: every file is already in the library")
    print(summary.line())
    return 0 if summary.ok else 1


def cmd_library(args: argparse.Namespace) -> int:
    from ingest.quality import page_ranges
    from rag.library import Library
    from rag.store import read_manifest

    settings = _settings(args)
    docs = read_manifest(settings)  # an embedded library lists itself without chromadb
    if docs is None:
        docs = Library(settings).store.documents()
    if args.json:
        for doc in docs:
            print(json.dumps(asdict(doc), ensure_ascii=False))
        return 0
    if not docs:
        print("the library is empty; add reports with `reportqa ingest PATH...`")
    for doc in docs:
        meta = ", ".join(f"{k}={v}" for k, v in doc.meta.items() if k != "title")
        print(f"{doc.doc_id}  {doc.source}  {doc.pages} pages  {doc.chunks} chunks  {doc.ingested_at}")
        print(f"    {doc.title}" + (f"  [{meta}]" if meta else ""))
        if doc.ocr_pages:
            print(f"    OCR'd pages: {page_ranges(doc.ocr_pages)}")
    return 0


def cmd_companies(args: argparse.Namespace) -> int:
    """Each company the library's reports cover, with its reports, latest rating and target price."""
    from rag.companies import companies, find_company
    from rag.library import Library
    from rag.store import read_manifest

    settings = _settings(args)
    docs = read_manifest(settings)
    if docs is None:
        docs = Library(settings).store.documents()
    found = companies(docs)
    if args.company:
        match = find_company(args.company, found)
        if match is None:
            print(f"reportqa companies: no report in the library covers {args.company!r}", file=sys.stderr)
            return 1
        found = [match]
    if args.json:
        for company in found:
            print(json.dumps(company.to_dict(), ensure_ascii=False))
        return 0
    if not found:
        print("no company reports in the library (a report covers a company when its card names one)")
    _print_companies(found)
    return 0


def _print_companies(found: Sequence[Any]) -> None:  # Sequence[rag.companies.Company]
    """Per company a heading (name, tickers, latest rating and target with who stated them and when) and a
    rich table of its reports by date. Report text is printed as plain text, never as rich markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    for company in found:
        rated, targeted = company.latest_rating, company.latest_target
        count = len(company.reports)
        head = [f"{company.name}  {' '.join(company.tickers)}", f"{count} report{'s' if count != 1 else ''}",
                f"latest rating {rated.call} ({rated.broker}, {rated.date})" if rated else "no rating stated",
                f"latest target {targeted.target_price:,.2f} {targeted.target_currency} ({targeted.broker}, "
                f"{targeted.date})" if targeted else "no target price stated"]
        console.print(Text(" · ".join(head), style="bold"))
        table = Table()
        for column in ("date", "broker", "rating", "target price", "title"):
            table.add_column(column, no_wrap=column != "title")
        for report in company.reports:  # "—": the report does not state it
            table.add_row(*(Text(cell or "—") for cell in (report.date, report.broker, report.call,
                                                            report.target, report.title)))
        console.print(table)
        console.print()


def cmd_delete(args: argparse.Namespace) -> int:
    from ingest.job import delete_document

    try:
        doc = delete_document(_library(args), args.doc)
    except LookupError as err:
        print(f"reportqa delete: {err}", file=sys.stderr)
        return 1
    print(f"deleted {doc.doc_id} {doc.source} ({doc.chunks} chunks)")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import answer
    from rag.retrieve import Filters
    from rag.serialize import answer_to_dict
    from reportqa.render import format_answer

    if bool(args.question) == bool(args.batch):
        print("reportqa ask: give a QUESTION or --batch FILE.jsonl (not both)", file=sys.stderr)
        return 2
    library = _library(args)
    resolve = {}
    rows = _read_batch(Path(args.batch)) if args.batch else [{"question": args.question, "doc": args.doc}]
    for row in rows:
        doc = row.get("doc") or args.doc
        if doc and doc not in resolve:
            resolve[doc] = library.store.find(doc).doc_id
        filters = Filters(doc_ids=(resolve[doc],)) if doc else None
        result = answer(row["question"], library, k=args.k, filters=filters, mode=args.mode)
        if args.json or args.batch:
            print(json.dumps(answer_to_dict(result), ensure_ascii=False), flush=True)
        else:
            print(format_answer(result))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """An interactive session: questions from stdin, one library and model loaded once."""
    from rag.retrieve import Filters
    from reportqa.chat import ChatSession, run

    library = _library(args)
    filters = Filters(doc_ids=(library.store.find(args.doc).doc_id,)) if args.doc else None
    return run(ChatSession(library, k=args.k, filters=filters, mode=args.mode), sys.stdin, sys.stdout)


def _read_batch(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise SystemExit(f"reportqa ask: {path}:{number}: not JSON ({err.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise SystemExit(f"reportqa ask: {path}:{number}: needs a string field 'question'")
        rows.append(row)
    return rows


def cmd_eval(args: argparse.Namespace) -> int:
    """Score a question set (and the plain baseline) into --out, or compare two saved runs."""
    if args.compare:
        from eval.compare import compare_runs, load_run, render_comparison

        runs = [load_run(path) for path in args.compare]
        for system in ("ours", "baseline"):
            if all(system in run.systems for run in runs):
                print(render_comparison(compare_runs(*runs, system=system, names=tuple(args.compare))))
        return 0
    if not args.dataset:
        print("reportqa eval: give DATASET.jsonl, or --compare RUN_A RUN_B", file=sys.stderr)
        return 2

    from tqdm import tqdm

    from eval.datasets import DatasetError
    from eval.harness import EvalError, run_eval
    from eval.report import run_folder, summary_table, write_run

    out = Path(args.out) if args.out else run_folder("eval-runs", args.dataset)
    bars: dict[str, Any] = {}

    def progress(event: Any) -> None:
        bar = bars.get(event.stage)
        if bar is None:
            for done in bars.values():  # a stage is over when the next one starts
                done.close()
            bar = bars[event.stage] = tqdm(total=event.total, desc=event.stage, file=sys.stderr,
                                           mininterval=1 if sys.stderr.isatty() else 30)
        bar.total = event.total
        bar.set_postfix_str(Path(event.current).name, refresh=False)
        bar.update(event.done - bar.n)

    try:
        library = _library(args, existing=not args.ingest)  # --ingest may create it
        run = run_eval(args.dataset, library, ingest=args.ingest or (), baseline=args.baseline,
                       use_doc=not args.no_doc_scope, mode=args.mode, progress=progress)
    except (EvalError, DatasetError) as err:
        print(f"reportqa eval: {err}", file=sys.stderr)
        return 2
    finally:
        for bar in bars.values():
            bar.close()
    results = write_run(run, out)
    print(summary_table({name: system.summary for name, system in results.systems.items()}))
    print(f"\n{len(run.questions)} questions; wrote {out / 'results.json'} and {out / 'report.md'}")
    return 0


def app_process(settings: Any, port: int | None) -> tuple[list[str], dict[str, str]]:
    """The command and environment of the web app: every setting travels in the environment, where
    the app's ``Settings.load()`` reads it. Streamlit reads ``.streamlit/config.toml`` only from its
    working folder, so the options it holds (minimal toolbar: no Deploy button; no usage statistics)
    are given on the command line, wherever ``reportqa`` runs."""
    app = Path(__file__).resolve().parents[1] / "app.py"  # the Streamlit entry file, installed beside us
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--browser.gatherUsageStats", "false",
               "--client.toolbarMode", "minimal"]
    if port:
        command += ["--server.port", str(port)]
    return command, {**os.environ, **settings.to_env()}


def _start_app(settings: Any, port: int | None) -> int:
    import subprocess

    command, env = app_process(settings, port)
    return subprocess.call(command, env=env)


def cmd_app(args: argparse.Namespace) -> int:
    return _start_app(_settings(args), args.port)


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled reference report into a demo library (once) and open the app on it."""
    from ingest.job import DEMO_REPORT, ingest_paths
    from rag.library import Library
    from rag.settings import default_library

    settings = _settings(args, existing=False)
    if not args.library and not os.environ.get("REPORTQA_LIBRARY"):
        settings = settings.with_(library=default_library().with_name("demo-library"))
    summary = ingest_paths(Library(settings), [DEMO_REPORT])
    print(summary.line())
    return _start_app(settings, args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reportqa", description="Cited answers from research reports.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="DIR", help="library folder (REPORTQA_LIBRARY)")
    common.add_argument("--embed-model", help="sentence-transformers model name or path (REPORTQA_EMBED_MODEL)")
    common.add_argument("--chroma-url", help="Chroma server URL (REPORTQA_CHROMA_URL); default: embedded")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", parents=[common], help="add files or folders of reports to the library")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--prune", action="store_true", help="delete documents whose files are gone")
    ingest.add_argument("--rebuild", action="store_true", help="drop the library and index everything again")
    ingest.add_argument("--chunk-size", type=int, help="chunk size in characters (REPORTQA_CHUNK_SIZE)")
    ingest.set_defaults(func=cmd_ingest)

    library = sub.add_parser("library", parents=[common], help="list the documents in the library")
    library.add_argument("--json", action="store_true", help="one JSON object per document")
    library.set_defaults(func=cmd_library)

    covered = sub.add_parser("companies", parents=[common],
                             help="the companies the reports cover: their reports, latest rating and target")
    covered.add_argument("company", nargs="?", metavar="COMPANY", help="only this company (name or code)")
    covered.add_argument("--json", action="store_true", help="one JSON object per company")
    covered.set_defaults(func=cmd_companies)

    delete = sub.add_parser("delete", parents=[common], help="remove one document from the library")
    delete.add_argument("doc", metavar="DOC", help="document id (or a unique prefix, or the file name)")
    delete.set_defaults(func=cmd_delete)

    ask = sub.add_parser("ask", parents=[common], help="answer a question with cited passages")
    ask.add_argument("question", nargs="?", metavar="QUESTION")
    ask.add_argument("--batch", metavar="FILE.jsonl", help="one JSON object per line: question, optional doc")
    ask.add_argument("--doc", metavar="ID", help="only this document")
    ask.add_argument("-k", type=int, default=None, help="passages to retrieve (REPORTQA_TOP_K)")
    ask.add_argument("--mode", choices=["auto", "extractive", "llm"], default="auto")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", parents=[common], help="ask question after question in the terminal")
    chat.add_argument("--doc", metavar="ID", help="only this document")
    chat.add_argument("-k", type=int, default=None, help="passages to retrieve (REPORTQA_TOP_K)")
    chat.add_argument("--mode", choices=["auto", "extractive", "llm"], default="auto")
    chat.set_defaults(func=cmd_chat)

    evaluate = sub.add_parser("eval", parents=[common], help="score a question set, or compare two runs")
    evaluate.add_argument("dataset", nargs="?", metavar="DATASET.jsonl")
    evaluate.add_argument("--ingest", nargs="+", action="extend", metavar="PATH",
                          help="reports to add to the library first (idempotent)")
    evaluate.add_argument("--baseline", action="store_true", help="also run the plain llama-index pipeline")
    evaluate.add_argument("--out", metavar="DIR", help="folder for results.json and report.md")
    evaluate.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"),
                          help="per metric and per question, what got better or worse from RUN_A to RUN_B")
    evaluate.add_argument("--no-doc-scope", action="store_true", help="ignore the questions' `doc` scope")
    evaluate.add_argument("--mode", choices=["auto", "extractive", "llm"], default="auto")
    evaluate.set_defaults(func=cmd_eval)

    for name, func, text in (
        ("app", cmd_app, "start the web app (chat, library, evaluation)"),
        ("demo", cmd_demo, "ingest the bundled reference report into a demo library and start the app"),
    ):
        command = sub.add_parser(name, parents=[common], help=text)
        command.add_argument("--port", type=int, help="port for the web app (default 8501)")
        command.set_defaults(func=func)
    return parser


def _configure_logging() -> None:
    """Warnings and errors on stderr, nothing below them: some libraries set their own loggers to DEBUG
    when imported (bm25s does), so the level is held by the handler, not only by the root logger."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # ours (or an embedding program's), not a test's capture
            handler.setLevel(max(handler.level, logging.WARNING))
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # per-file problems are reported as result lines


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    _configure_logging()
    args = build_parser().parse_args(argv)
    from rag.store import LibraryError

    try:
        return args.func(args)
    except (LibraryError, LookupError) as err:
        print(f"reportqa {args.command}: {err}", file=sys.stderr)
        return 2
