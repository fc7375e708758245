"""The entry Streamlit runs: page config and a first look at the connected account (full pages come later)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui.home import render_home

st.set_page_config(page_title="Newton Dashboard", page_icon=":telephone_receiver:", layout="wide")
render_home()
