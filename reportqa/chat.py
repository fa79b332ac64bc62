"""`reportqa chat`: questions read line by line, answered from one library opened once.

The model, Chroma and the search index load at the first question that needs them and stay loaded, so
later questions cost only retrieval and composition. Follow-ups keep the conversation's scope and terms
(:class:`rag.conversation.Conversation`, as in the web app). Commands: ``:sources N`` shows the passage
that citation N quotes, ``:new`` starts a new conversation, ``:help``, and ``:quit`` (or end of input).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TextIO

from rag.answer import answer
from rag.conversation import Conversation
from rag.library import Library
from rag.llm import LLMError
from rag.retrieve import Filters
from rag.types import Answer
from reportqa.render import format_answer, format_passage

HELP = ("Ask a question about the reports. :sources N shows the passage of citation [N], :new starts a new "
        "conversation, :quit ends.")
QUIT = frozenset({":quit", ":q", ":exit"})


class ChatSession:
    """One conversation with one library; :meth:`handle` takes a line and returns what to print."""

    def __init__(self, library: Library, *, k: int | None = None, filters: Filters | None = None,
                 mode: str = "auto") -> None:
        self.library, self.k, self.filters, self.mode = library, k, filters, mode
        self.conversation = Conversation()
        self.last: Answer | None = None

    def handle(self, line: str) -> str:
        """The reply to one input line: a command's output, or the cited answer to a question."""
        if line.startswith(":"):
            return self._command(line)
        started = time.perf_counter()
        try:
            self.last = answer(line, self.library, k=self.k, filters=self.filters,
                               conversation=self.conversation, mode=self.mode)
        except LLMError as err:  # the endpoint failed: say so, and the session goes on
            return f"! the LLM endpoint failed: {err}"
        return f"{format_answer(self.last)}\n({time.perf_counter() - started:.2f} s)"

    def _command(self, line: str) -> str:
        name, _, arg = line.partition(" ")
        if name == ":sources":
            return self.source(arg.strip())
        if name == ":new":
            self.conversation.clear()
            self.last = None
            return "(new conversation)"
        if name == ":help":
            return HELP
        return f"unknown command {name!r}. {HELP}"

    def source(self, ref: str) -> str:
        """The passage of citation ``ref`` of the last answer."""
        citations = self.last.citations if self.last else ()
        if not citations:
            return "no citations yet: ask a question first"
        found = [c for c in citations if str(c.n) == ref]
        if not found:
            numbers = ", ".join(str(c.n) for c in citations)
            return f"no citation {ref or '(none given)'}; the last answer cites {numbers}"
        citation = found[0]
        assert self.last is not None
        chunk = next((h.chunk for h in self.last.hits if h.chunk.chunk_id == citation.chunk_id), None)
        if chunk is None:  # not among the hits kept with the answer: read it from the library
            chunk = next(iter(self.library.store.get_chunks([citation.chunk_id])), None)
        if chunk is None:
            return f"the passage of [{citation.n}] is no longer in the library"
        return format_passage(citation, chunk)


def lines(stdin: TextIO, interactive: bool) -> Iterator[str]:
    """Non-empty input lines, stripped; with a prompt (and line editing) on a terminal."""
    while True:
        if interactive:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return
        else:
            line = stdin.readline()
            if not line:
                return
        line = line.strip()
        if line:
            yield line


def run(session: ChatSession, stdin: TextIO, stdout: TextIO) -> int:
    """Answer every line of ``stdin`` until ``:quit`` or the end of input."""
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        print(HELP, file=stdout)
    for line in lines(stdin, interactive):
        if line in QUIT:
            break
        try:
            reply = session.handle(line)
        except KeyboardInterrupt:
            if not interactive:
                raise
            reply = "(interrupted)"  # Ctrl-C stops this answer, not the session
        print(reply, file=stdout, flush=True)
        print(file=stdout, flush=True)
    return 0
