"""A first page: which account is connected and its widgets; the real pages replace it later."""

from __future__ import annotations

import streamlit as st

from dashboard.api import NewtonError
from dashboard.connect import open_client
from dashboard.settings import Connection, load_connection


def render_home() -> None:
    """Show the connection and the account's widgets, or one clear message saying what to fix."""
    st.title("Newton Dashboard")
    try:
        connection = load_connection()
    except NewtonError as error:
        st.error(f"Settings need fixing: {error}", icon=":material/settings:")
        return
    _connection_banner(connection)
    try:
        with open_client(connection) as client:
            widgets = client.get_widgets()
    except NewtonError as error:
        st.error(str(error), icon=":material/error:")
        return
    st.subheader("Widgets")
    rows = [
        {"widget": w.name, "widget id": w.id, "departments": ", ".join(d.name for d in w.departments)} for w in widgets
    ]
    if rows:
        st.dataframe(rows, hide_index=True, key="widgets")
    else:
        st.info("This account has no widgets yet.")


def _connection_banner(connection: Connection) -> None:
    if connection.demo:
        st.warning(connection.describe(), icon=":material/science:")
    else:
        st.caption(connection.describe())
