"""The Streamlit pages of Report QA, one module each: chat, library, companies, evaluation (``app.py`` runs
them)."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

__all__ = ["pages"]


def pages() -> dict[str, StreamlitPage]:
    """The app's pages by name: ``/chat`` (the default), ``/library``, ``/companies`` and ``/evaluation``."""
    from ui import chat, companies, evaluation, library  # the pages link to each other through this function

    return {
        "chat": st.Page(chat.page, title="Chat", icon=":material/forum:", url_path="chat", default=True),
        "library": st.Page(library.page, title="Library", icon=":material/library_books:",
                           url_path="library"),
        "companies": st.Page(companies.page, title="Companies", icon=":material/domain:",
                             url_path="companies"),
        "evaluation": st.Page(evaluation.page, title="Evaluation", icon=":material/analytics:",
                              url_path="evaluation"),
    }
