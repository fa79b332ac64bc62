"""Report QA in the browser: chat with cited answers, the report library, the companies the reports cover and
the evaluation dashboard.

Start it with ``reportqa app`` (or ``streamlit run app.py``); settings come from the environment
(``REPORTQA_*``) through ``Settings.load()``. The pages live in the ``ui`` package: ``/chat`` (default),
``/library``, ``/companies``, ``/evaluation``; ``?page=library`` also works. Report text is untrusted:
every string taken from a report is escaped before Markdown rendering and nothing is rendered as HTML
(``ui.markdown``).
"""

from __future__ import annotations

import streamlit as st

import ui


def main() -> None:
    st.set_page_config(page_title="Report QA", page_icon=":material/description:", layout="wide")
    known = ui.pages()
    page = st.navigation(list(known.values()))
    wanted = known.get(st.query_params.get("page", ""))
    if wanted is not None and wanted.url_path != page.url_path:
        st.switch_page(wanted)  # ?page=library deep links (and lets AppTest open a page)
    page.run()


if __name__ == "__main__":
    main()
