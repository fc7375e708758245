"""What the pages say about money they cannot show: the filters or dimensions costs cannot follow, or no costs."""

from __future__ import annotations

import streamlit as st

from dashboard import dimensions, i18n

COSTS_PAGE = "app_pages/costs.py"


def blocked_note(blocked: tuple[str, ...], lang: str) -> None:
    """Why the money is left out: the chosen filters and dimensions (`money.blocked_by`) costs cannot follow."""
    names = [dimensions.label(name, i18n.language(lang)) for name in blocked]
    quoted = [f"«{name}»" for name in names] if i18n.language(lang) == "ru" else names
    st.caption(i18n.text("money_blocked", lang, names=", ".join(quoted)))


def no_costs_hint(lang: str) -> None:
    """The account has no costs: say so, with the way to the Costs page."""
    st.caption(i18n.text("money_no_costs", lang))
    st.page_link(COSTS_PAGE, label=i18n.text("money_to_costs", lang), icon=":material/payments:")
