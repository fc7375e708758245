"""The dashboard as `streamlit run streamlit_app.py` starts it: an `st.App` serving `dashboard_app.py`.

Streamlit's command line finds `app` here and serves it with uvicorn, reading .streamlit/config.toml, secrets.toml
and `--server.*` flags as it does for any script. The app adds one middleware in front of Streamlit's own routes:
file uploads only from sessions the door let in (dashboard/ui/uploads.py, SECURITY.md "Uploads").
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from dashboard.ui.uploads import UploadsAfterTheDoor

app = st.App(Path(__file__).with_name("dashboard_app.py"), middleware=[Middleware(UploadsAfterTheDoor)])
