"""The chat page: questions in, cited answers out, within one conversation per browser session.

The sidebar holds the filters (documents, publisher, date range), top-k, the answer mode and whether the
LLM endpoint answers. Each answer shows its linked ``[n]`` markers, verification flags, scope and sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

import ui
from rag.answer import Conversation, answer_stream, renumber_markers
from rag.library import Library
from rag.llm import LLMError
from rag.retrieve import Filters
from rag.store import LibraryError
from rag.types import Answer, AnswerTable, Document, Figure
from ui.common import current_library, library_documents, sidebar_library
from ui.markdown import answer_markdown, markdown_text, quote_markdown
from ui.sources import render_sources

FLAG_LABELS = {
    "unsupported_sentence": "Sentence not supported by the passage it cites",
    "number_not_found": "Number not found in the cited passage",
    "unknown_citation": "Cites a passage that was not retrieved",
    "no_citation": "Sentence without a citation",
    "uncited_cell": "Table cell the report's text layer does not show",
}
FILTER_KEYS = {"filter_docs": [], "filter_publishers": [], "filter_from": None, "filter_to": None}


@dataclass(frozen=True)
class ChatTurn:
    """A question, what it got back (or the error), and the sidebar filters it was asked under."""

    question: str
    answer: Answer | None
    filters: str = ""
    error: str = ""


@dataclass(frozen=True)
class ChatSettings:
    """What the sidebar asks for: filters (and how to name them), top-k and answer mode."""

    filters: Filters | None
    label: str
    k: int
    mode: str


def page() -> None:
    """The chat: earlier turns, then the question box (disabled while the library is empty)."""
    library = current_library()
    docs = library_documents(library)
    chat = chat_sidebar(library, docs)
    sidebar_library(library, docs)
    state = st.session_state
    state.setdefault("turns", [])
    state.setdefault("conversation", Conversation())
    st.title("Ask the reports")
    if not docs:
        st.info("The library is empty. Add reports on the Library page first.")
        st.page_link(ui.pages()["library"], label="Go to the library", icon=":material/library_books:")
    for i, turn in enumerate(state.turns):
        with st.chat_message("user"):
            st.markdown(markdown_text(turn.question))
        with st.chat_message("assistant"):
            render_answer(library, i, turn, latest=i == len(state.turns) - 1)
    question = st.chat_input("Ask a question about the reports in the library", disabled=not docs)
    question = question or state.pop("pending_question", None)
    if question:
        state.turns.append(ask(library, question, chat))
        st.rerun()


def ask(library: Library, question: str, chat: ChatSettings) -> ChatTurn:
    """Answer ``question`` within this session's conversation, showing the text as it streams in."""
    with st.chat_message("user"):
        st.markdown(markdown_text(question))
    with st.chat_message("assistant"), st.spinner("Searching the library…"):
        shown, text = st.empty(), ""
        stream = answer_stream(question, library, k=chat.k, filters=chat.filters,
                               conversation=st.session_state.conversation, mode=chat.mode)
        try:
            for item in stream:
                if isinstance(item, Answer):
                    return ChatTurn(question, item, chat.label)
                text += item  # shown numbered as the final answer will be
                shown.markdown(quote_markdown(renumber_markers(text)) + " ▌")
        except (LLMError, LibraryError) as err:
            return ChatTurn(question, None, chat.label, str(err))
    return ChatTurn(question, None, chat.label, "the answer stream ended without an answer")


def render_answer(library: Library, turn: int, chat: ChatTurn, latest: bool) -> None:
    """The answer with linked [n] markers, flags, scope and sources panel; or the refusal and its scope."""
    answer = chat.answer
    if answer is None:
        st.error(markdown_text(chat.error))
        return
    scope = scope_text(answer, chat.filters)
    if not answer.answerable:
        st.warning(markdown_text(answer.text), icon=":material/block:")
        st.caption(f"**Scope:** {markdown_text(scope or 'the whole library')}")
        if scope:
            st.button("Clear scope and ask again", key=f"clear-{turn}", on_click=clear_scope,
                      args=(chat.question,))
        return
    if answer.table is not None:
        if answer.table.rows:  # no report matched: the sentence says so, without an empty table
            st.markdown(table_markdown(answer.table, turn))
        st.markdown(answer_markdown(answer.table.summary, turn))
    else:
        st.markdown(answer_markdown(answer.text, turn))
    if answer.figure is not None:
        render_figure(answer.figure)
    for flag in answer.flags:
        label = FLAG_LABELS.get(flag.kind, flag.kind)
        st.warning(f"**{label}:** {markdown_text(flag.detail)}", icon=":material/warning:")
    facts = [answer.mode, f"{len(answer.citations)} sources", f"{answer.timings_ms.get('total', 0):.0f} ms"]
    st.caption(" · ".join(facts) + (f" · **scope:** {markdown_text(scope)}" if scope else ""))
    if answer.reason:
        st.caption(markdown_text(answer.reason))
    with st.expander("Sources", expanded=latest, icon=":material/format_quote:"):
        render_sources(library, turn, answer)


def render_figure(figure: Figure) -> None:
    """The cells a figure answer read: one line each, with its citation number, page, row and column."""
    st.dataframe(
        [{"[n]": c.n, "page": c.page, "row": c.row, "column": c.column, "printed": c.text, "table": c.table}
         for c in figure.cells],
        hide_index=True, use_container_width=True,
    )


def table_markdown(table: AnswerTable, turn: int) -> str:
    """A table answer as a Markdown table: every value escaped, every [n] linked to its source."""
    def cell(value: str, citation: int | None = None) -> str:
        return answer_markdown(value + (f"[{citation}]" if citation else ""), turn)

    lines = ["| " + " | ".join(cell(c) for c in table.columns) + " |", "|" + " --- |" * len(table.columns)]
    lines += ["| " + " | ".join(cell(c.value, c.citation) for c in row.cells) + " |" for row in table.rows]
    return "\n".join(lines)


def scope_text(answer: Answer, filters: str) -> str:
    """What the question was restricted to: documents a name pointed at, the sidebar filters, or nothing."""
    parts = []
    if answer.scope:
        named = answer.scope.get("matched")
        label = str(answer.scope.get("label") or named)
        parts.append(label + (f' (from the name "{named}")' if named else ""))
    if filters:
        parts.append(f"filters: {filters}")
    return "; ".join(parts)


def clear_scope(question: str) -> None:
    """Button callback: forget the filters and the conversation's scope, then ask ``question`` again."""
    st.session_state.update(FILTER_KEYS)
    st.session_state.conversation.clear()
    st.session_state.pending_question = question


def new_conversation() -> None:
    st.session_state.turns = []
    st.session_state.conversation = Conversation()


# --- the sidebar ------------------------------------------------------------------------------------
def sidebar_filters(docs: Sequence[Document]) -> tuple[Filters | None, str]:
    """Documents, publisher and date range from the sidebar, and a label naming them ("" for none)."""
    side = st.sidebar
    side.subheader("Filters")
    titles = {d.doc_id: d.title for d in docs}
    chosen = side.multiselect("Documents", list(titles), format_func=titles.get, key="filter_docs")
    publishers = sorted({d.meta["publisher"] for d in docs if d.meta.get("publisher")})
    chosen_publishers = side.multiselect("Publisher", publishers, key="filter_publishers")
    left, right = side.columns(2)
    start = left.date_input("From", value=None, key="filter_from", format="YYYY-MM-DD")
    end = right.date_input("To", value=None, key="filter_to", format="YYYY-MM-DD")
    doc_ids = tuple(c for c in chosen if c in titles)
    dates = f"{start or '…'} – {end or '…'}" if start or end else ""
    parts = (", ".join(titles[d] for d in doc_ids), ", ".join(chosen_publishers), dates)
    label = "; ".join(p for p in parts if p)
    filters = Filters(
        doc_ids=doc_ids, publishers=tuple(chosen_publishers),
        date_from=start.isoformat() if start else None, date_to=end.isoformat() if end else None,
    )
    return (filters if label else None), label


def chat_sidebar(library: Library, docs: Sequence[Document]) -> ChatSettings:
    """Filters, top-k and answer mode (with whether the LLM endpoint answers), from the sidebar."""
    settings, side = library.settings, st.sidebar
    filters, label = sidebar_filters(docs)
    side.subheader("Answers")
    k = side.slider("Passages to retrieve (top-k)", 1, 20, min(settings.top_k, 20), key="top_k")
    configured = settings.llm_configured
    names = {"extractive": "Extractive (quoted sentences)", "llm": "LLM (generated, then checked)"}
    mode = side.radio("Answer mode", list(names), index=int(configured), format_func=names.get, key="mode",
                      disabled=not configured)
    if configured:
        status = llm_status(settings.llm_base_url, settings.llm_api_key)
        side.caption(f"LLM `{settings.llm_model}` at `{settings.llm_base_url}`: {status}")
    else:
        side.caption("LLM: not configured (set REPORTQA_LLM_BASE_URL and REPORTQA_LLM_MODEL)")
    side.button("New conversation", on_click=new_conversation)
    return ChatSettings(filters, label, k, mode)


@st.cache_data(ttl=60, show_spinner=False)
def llm_status(base_url: str, api_key: str | None) -> str:
    """Whether the OpenAI-compatible endpoint answers a model listing within a few seconds."""
    from openai import OpenAI, OpenAIError

    client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=3.0, max_retries=0)
    try:
        return f"answers ({len(client.models.list().data)} models)"
    except OpenAIError as err:
        return f"does not answer ({type(err).__name__})"
