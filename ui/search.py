"""Estate search above the maps: type an id, name, community or address; the map zooms to the estate and rings it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from geo.maps import editing
from ui import maps, tables
from ui.i18n import lang, t


def label(row) -> str:
    """What the search box lists and matches for an estate: id, name, community and address."""
    parts = [str(row["estate_id"]), str(row.get("name", "") or "")]
    extra = [str(row.get(c, "") or "") for c in ("community", "address")]
    return " ".join(parts) + ("（" + "，".join(x for x in extra if x) + "）" if lang() == "zh" else " (" + ", ".join(x for x in extra if x) + ")")


def estate_search(table: pd.DataFrame, *, key: str, on_change: Callable[[], None] | None = None) -> str | None:
    """A search box over the estates of ``table``; the id picked (None when the box is empty)."""
    ids = list(table["estate_id"].astype(str))
    labels = {str(r["estate_id"]): label(r) for r in tables.row_dicts(table, ("estate_id", "name", "community", "address"))}
    if st.session_state.get(key) not in (None, *ids):
        st.session_state[key] = None  # filtered away since it was picked
    return st.selectbox(t("search_estate"), ids, index=None, key=key, placeholder=t("search_hint"), format_func=lambda i: labels.get(i, i),
                        help=t("search_help"), on_change=on_change)


def found_on_map(table: pd.DataFrame, estate_id: str | None, basemap: str) -> tuple[list, list]:
    """(layers, controls) for :func:`ui.maps.coverage_map`: the found estate ringed and the map zoomed to it."""
    if not estate_id:
        return [], []
    rows = table[table["estate_id"].astype(str) == str(estate_id)]
    if not len(rows):
        return [], []
    row = rows.iloc[0]
    geom = maps.draft_lines_for_map([row.geometry], basemap)[0]  # the map's datum (GCJ-02 on AMap)
    pt = geom.representative_point() if geom.geom_type != "Point" else geom
    layer = editing.highlight_group(geom, f"{row['estate_id']} {row.get('name', '')}", lang=lang())
    return [layer], [editing.focus_bounds(pt.x, pt.y)]
