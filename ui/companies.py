"""The companies page: every company the library's broker reports cover, then for the one picked its reports
(broker, date, rating, target price, title) and its target prices over time, one line per broker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from rag.companies import Company, companies
from ui.common import current_library, library_documents, sidebar_library
from ui.markdown import markdown_text


def page() -> None:
    """The overview table, the company picker, the picked company's reports and target-price chart."""
    library = current_library()
    docs = library_documents(library)
    sidebar_library(library, docs)
    st.title("Companies")
    found = companies(docs)
    if not found:
        st.info("No report in the library covers a company yet: a broker report's first page names the "
                "company and its ticker (e.g. 阳光电源（300274.SZ）). Add reports on the Library page.")
        return
    covering = sum(len(c.reports) for c in found)
    st.caption(f"{len(found)} companies · {covering} of {len(docs)} reports cover one")
    st.dataframe(company_rows(found), hide_index=True, height="content" if len(found) <= 12 else "auto")
    by_key = {company_key(c): c for c in found}
    picked = by_key[st.selectbox("Company", list(by_key), format_func=lambda k: company_label(by_key[k]),
                                 key="company")]
    show_company(picked)


def show_company(company: Company) -> None:
    """One company: its latest call, its reports by date, the chart of its target prices by broker."""
    st.header(markdown_text(f"{company.name} {' '.join(company.tickers)}"))
    if len(company.names) > 1:
        others = [name for name in company.names if name != company.name]
        st.caption(markdown_text("Also printed as " + ", ".join(others)))
    rated, targeted = company.latest_rating, company.latest_target
    left, mid, right = st.columns(3)
    left.metric("Reports", len(company.reports), border=True)
    mid.metric("Latest rating", rated.call if rated else "—", border=True)
    right.metric("Latest target price", f"{targeted.target_price:,.2f} {targeted.target_currency}"
                 if targeted else "—", border=True)
    as_of = [f"rating: {rated.broker}, {rated.date}" if rated else "",
             f"target: {targeted.broker}, {targeted.date}" if targeted else ""]
    st.caption(markdown_text(" · ".join(a for a in as_of if a)))
    price = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(report_rows(company), hide_index=True, height="content",
                 column_config={"target price": price, "previous target": price})
    points = target_points(company)
    if not points:
        st.info(markdown_text(f"No report on {company.name} states a target price."))
        return
    st.subheader("Target prices by broker")
    for currency in sorted({p["currency"] for p in points}):
        st.altair_chart(target_chart([p for p in points if p["currency"] == currency], currency),
                        width="stretch")
    st.caption("A dot is a report's target price, a line joins one broker's reports; a dashed line runs from "
               "the previous target the report states.")
    unpriced = sum(r.target_price is None for r in company.reports)
    undated = len(company.reports) - len(points) - unpriced
    left_out = [f"{unpriced} state no target price" if unpriced else "",
                f"{undated} with a target state no date" if undated else ""]
    if unpriced or undated:
        st.caption(f"Not charted, of {len(company.reports)} reports: " + "; ".join(t for t in left_out if t) + ".")


def company_key(company: Company) -> str:
    """The picker's value for a company: its first ticker, else its name (stable across reruns)."""
    return company.tickers[0] if company.tickers else company.name


def company_label(company: Company) -> str:
    """The picker's text: name, tickers, number of reports."""
    count = len(company.reports)
    return f"{company.name} {' '.join(company.tickers)} · {count} report{'s' if count != 1 else ''}"


def company_rows(found: Sequence[Company]) -> list[dict[str, Any]]:
    """One overview row per company (plain-text cells)."""
    rows = []
    for company in found:
        rated, targeted = company.latest_rating, company.latest_target
        rows.append({
            "company": company.name, "tickers": " ".join(company.tickers), "reports": len(company.reports),
            "brokers": len(company.brokers), "latest rating": rated.call if rated else "",
            "latest target": f"{targeted.target_price:,.2f} {targeted.target_currency}" if targeted else "",
            "latest report": company.latest.date,
        })
    return rows


def report_rows(company: Company) -> list[dict[str, Any]]:
    """One row per report on ``company``, oldest first (plain-text cells; prices as numbers)."""
    return [
        {"date": r.date, "broker": r.broker, "rating": r.call, "target price": r.target_price,
         "currency": r.target_currency, "previous target": r.previous_target, "title": r.title,
         "file": r.source}
        for r in company.reports
    ]


def target_points(company: Company) -> list[dict[str, Any]]:
    """The chart's points: each dated report that states a target price."""
    return [
        {"date": r.date, "broker": r.broker or "(unknown broker)", "target price": r.target_price,
         "previous target": r.previous_target, "currency": r.target_currency or "?", "rating": r.call,
         "title": r.title}
        for r in company.reports if r.target_price is not None and r.date
    ]


def target_chart(points: Sequence[dict[str, Any]], currency: str) -> Any:
    """Target prices over time in one currency (an altair chart): a coloured line with points per broker, and
    a dashed rule down (or up) from the previous target where a report states the revision."""
    import altair as alt
    import pandas as pd

    base = alt.Chart(pd.DataFrame(list(points))).encode(
        x=alt.X("date:T", title="report date", axis=alt.Axis(format="%Y-%m-%d")),
        color=alt.Color("broker:N", title="broker"),
    )
    tooltip = ["date:T", "broker:N", "target price:Q", "previous target:Q", "rating:N", "title:N"]
    targets = base.mark_line(point=alt.OverlayMarkDef(size=80)).encode(
        y=alt.Y("target price:Q", title=f"target price ({currency})", scale=alt.Scale(zero=False)),
        tooltip=tooltip)
    revisions = base.transform_filter("isValid(datum['previous target'])").mark_rule(
        strokeDash=[4, 3], strokeWidth=2).encode(y="previous target:Q", y2="target price:Q", tooltip=tooltip)
    return alt.layer(revisions, targets).properties(height=360)
