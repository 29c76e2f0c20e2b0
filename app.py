"""Reskill in the browser: ``streamlit run app.py``.

A face: the pages in ``app_pages/`` read input, call the Advisor and render. The Advisor
is loaded once per process (``app_pages.common.load_advisor``); each user's profile,
conversation and editor live in their own ``st.session_state``.
"""

import streamlit as st

st.set_page_config(page_title="Reskill", page_icon=":material/explore:", layout="wide")

pages = [
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app_pages/plan.py", title="My plan", icon=":material/timeline:", url_path="plan"),
    st.Page("app_pages/knowledge.py", title="Knowledge base", icon=":material/menu_book:", url_path="knowledge"),
]
st.navigation(pages, position="top").run()
