"""Streamlit screens of the app; the engine stays in ``geo/``."""
