"""The sidebar every view shares: filters, the rule's parameters, the basemap."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from geo import settings
from geo.coverage.rule import Rule
from geo.maps import mapview
from ui import state
from ui.i18n import radius_text, status_label, t

STATUSES = ("covered", "coverable", "gap")
SHIFT_CHOICES = ("any", "day", "night")


@dataclass(frozen=True)
class Filters:
    """What the user chose in the sidebar."""

    communities: tuple[str, ...]
    batches: tuple[int, ...]
    statuses: tuple[str, ...]
    rule: Rule
    basemap: str
    tianditu_key: str
    show_bands: bool

    def apply(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows of a coverage table that pass the community, batch and status filters."""
        mask = pd.Series(True, index=table.index)
        if self.communities:
            mask &= table["community"].astype(str).isin(self.communities)
        if self.batches and "batch_year" in table.columns:
            mask &= pd.to_numeric(table["batch_year"], errors="coerce").isin(self.batches)
        if self.statuses and "status" in table.columns:
            mask &= table["status"].isin(self.statuses)
        return table[mask]


def basemap_label(key: str) -> str:
    """Sidebar label of a basemap."""
    if key == "offline":
        return t("basemap_offline")
    return f"{mapview.ONLINE_BASEMAPS[key]['name']} · {t('online_warning_short')}"


def cover_text(cover_m: float | None) -> str:
    """The cover distance of a rule as text; None is the engine's default (points and footprints differ)."""
    if cover_m is None:
        return t("cover_default", point=f"{settings.cover_distance_m:g}", polygon=f"{settings.cover_distance_polygon_m:g}")
    return t("cover_value", cover=f"{cover_m:g}")


def render(estates: pd.DataFrame) -> Filters:
    """Draw the sidebar and return the choices."""
    sb = st.sidebar
    sb.subheader(t("filters"))
    communities = sorted(estates["community"].astype(str).unique())
    batches = sorted(int(b) for b in pd.to_numeric(estates["batch_year"], errors="coerce").dropna().unique())
    chosen_c = sb.multiselect(t("community"), communities, key=state.COMMUNITIES, placeholder=t("all"))
    chosen_b = sb.multiselect(t("batch"), batches, key=state.BATCHES, placeholder=t("all"), format_func=lambda y: t("batch_label", year=y))
    chosen_s = sb.multiselect(t("status"), STATUSES, key=state.STATUSES, placeholder=t("all"), format_func=status_label)
    radius = sb.number_input(t("radius"), min_value=50.0, max_value=5000.0, value=float(settings.rule_radius_m), step=50.0,
                             key=state.RADIUS_M, help=t("radius_help"))
    default_cover = float(settings.cover_distance_m)
    cover = sb.number_input(t("cover"), min_value=5.0, max_value=1000.0, value=default_cover, step=5.0, key=state.COVER_M,
                            help=t("cover_help", point=f"{default_cover:g}", polygon=f"{settings.cover_distance_polygon_m:g}"))
    strict = sb.toggle(t("strict"), key=state.STRICT, help=t("strict_help"))
    shift = sb.selectbox(t("shift"), SHIFT_CHOICES, key=state.SHIFT, format_func=lambda s: t(f"shift_{s}"))
    sb.subheader(t("map_settings"))
    show_bands = sb.toggle(t("bands", radius=radius_text(radius)), value=True, key=state.SHOW_BANDS)
    basemap = sb.selectbox(t("basemap"), mapview.BASEMAPS, key=state.BASEMAP, format_func=basemap_label)
    key = ""
    if basemap != "offline":
        sb.warning(t("online_warning"))
    if basemap == "tianditu":
        key = sb.text_input(t("tianditu_key"), value=os.environ.get("SHAHE_TIANDITU_KEY", ""), type="password", key=state.TIANDITU_KEY)
    # At its default the cover distance is left to the engine, which uses a shorter one for footprints (polygons).
    cover_m = None if float(cover) == default_cover else float(cover)
    rule = Rule(float(radius), cover_m, bool(strict), None if shift == "any" else shift)
    return Filters(tuple(chosen_c), tuple(int(b) for b in chosen_b), tuple(chosen_s), rule, basemap, key, bool(show_bands))
