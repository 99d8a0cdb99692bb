"""Streamlit app: 沙河街道老旧小区巡防覆盖 (Shahe patrol coverage)."""

import streamlit as st

from geo import io

st.set_page_config(page_title="沙河街道老旧小区巡防覆盖", layout="wide")
st.title("沙河街道老旧小区巡防覆盖")
st.caption("位置与巡逻路线为近似或合成的演示数据 · positions and routes are approximate or synthetic demo data")
ledger = io.read_table("data/ledger.csv")
st.dataframe(ledger, hide_index=True)
