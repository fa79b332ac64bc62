"""Ingest progress on the command line: a bar on a terminal; in a log (stderr not a terminal), one status
line every few seconds — file, pages, chunks, chunks/s, ETA — so a long embedding never looks hung.

File results (new, replaced, failed) are printed as they come either way: failures on stderr, the others
on stdout.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ingest.job import EMBEDDING, FAILED, INDEXING, READING, UNCHANGED, Progress

STATUS_SECONDS = 5.0  # between two status lines in a log
RATE_WINDOW = 30.0  # seconds of recent batches that the rate is measured over


class LogProgress:
    """Status lines for a log: at the first event, then at most every ``interval`` seconds, and also while
    no event comes (a long read, OCR or batch), from a ticker thread started by :meth:`start`."""

    def __init__(self, out: TextIO, err: TextIO, interval: float = STATUS_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.out, self.err, self.interval, self.clock = out, err, interval, clock
        self._lock = threading.Lock()
        self._last: Progress | None = None
        self._printed_at: float | None = None
        self._stage_since = 0.0  # when the current file's stage began
        self._batches: deque[tuple[float, int]] = deque()  # (time, chunks embedded) of recent batches
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, event: Progress) -> None:
        with self._lock:
            now = self.clock()
            last = self._last
            if last is None or (event.stage, event.current) != (last.stage, last.current):
                self._stage_since = now
            if event.file_chunks_done:  # a batch was written
                self._batches.append((now, event.chunks_embedded))
                while len(self._batches) > 2 and now - self._batches[1][0] >= RATE_WINDOW:
                    self._batches.popleft()
            self._last = event
            if event.result is not None:
                self._print_result(event)
            elif event.stage == INDEXING:
                self._print(now, f"[{event.files_done}/{event.files_total}] building the search index")
            elif self._printed_at is None or now - self._printed_at >= self.interval:
                self._print(now, self.status(now))

    def tick(self) -> None:
        """Print the status if none was printed for ``interval`` seconds while a file is in work."""
        with self._lock:
            now = self.clock()
            event = self._last
            busy = event is not None and event.result is None and event.stage in (READING, EMBEDDING)
            if busy and (self._printed_at is None or now - self._printed_at >= self.interval):
                self._print(now, self.status(now))

    def status(self, now: float) -> str:
        """The current file: ``[2/5] report.pdf: 120 pages, 340/800 chunks, 41.2 chunks/s, ETA 11 s``."""
        event = self._last
        assert event is not None
        head = f"[{event.files_done + 1}/{event.files_total}] {Path(event.current).name}"
        elapsed = now - self._stage_since
        if event.stage != EMBEDDING:
            return f"{head}: reading ({elapsed:.0f} s)"
        done, total = event.file_chunks_done, event.file_chunks
        line = f"{head}: {event.pages} pages, {done}/{total} chunks"
        rate = self.rate()
        if rate:
            return f"{line}, {rate:.1f} chunks/s, ETA {(total - done) / rate:.0f} s"
        return f"{line}, embedding ({elapsed:.0f} s)"

    def rate(self) -> float | None:
        """Chunks per second over the recent batches of the job; None before two batches. The first
        batch is the reference, so the model's loading time does not count."""
        if len(self._batches) < 2:
            return None
        (t0, n0), (t1, n1) = self._batches[0], self._batches[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 and n1 > n0 else None

    def _print(self, now: float, line: str) -> None:
        self._printed_at = now
        print(f"ingest: {line}", file=self.err, flush=True)

    def _print_result(self, event: Progress) -> None:
        result = event.result
        assert result is not None
        if result.status != UNCHANGED:
            print(result.line(), file=self.err if result.status == FAILED else self.out, flush=True)

    def start(self) -> LogProgress:
        def run() -> None:
            while not self._stop.wait(min(1.0, self.interval)):
                self.tick()

        self._ticker = threading.Thread(target=run, name="ingest-progress", daemon=True)
        self._ticker.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()


class BarProgress:
    """A tqdm bar on a terminal, file results written above it."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        from tqdm import tqdm

        self.out, self.err = out, err
        self.bar = tqdm(total=0, unit="file", file=err)

    def __call__(self, event: Progress) -> None:
        bar = self.bar
        bar.total, bar.n = event.files_total, event.files_done
        if event.stage == INDEXING:
            bar.set_postfix_str("building the search index", refresh=False)
        elif event.stage == EMBEDDING:
            done = f"{event.file_chunks_done}/{event.file_chunks}"
            bar.set_postfix_str(f"{Path(event.current).name}: {done} chunks", refresh=False)
        bar.refresh()
        result = event.result
        if result is not None and result.status != UNCHANGED:
            bar.write(result.line(), file=self.err if result.status == FAILED else self.out)

    def start(self) -> BarProgress:
        return self

    def close(self) -> None:
        self.bar.close()


def ingest_progress(out: TextIO | None = None, err: TextIO | None = None) -> LogProgress | BarProgress:
    """The renderer for this process's stderr, started; call ``close()`` when the job is done."""
    out, err = out or sys.stdout, err or sys.stderr
    renderer = BarProgress(out, err) if err.isatty() else LogProgress(out, err)
    return renderer.start()
