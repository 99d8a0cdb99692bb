"""The basemaps a map can use: the project's offline one and the online tile services.

Kept apart from :mod:`geo.maps.mapview` so the command line can list the
choices without importing folium.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

__all__ = ["BASEMAPS", "ONLINE_BASEMAPS", "read_geojson", "select_features", "subdistrict_outline"]

#: Online basemaps: name -> (tile URL templates, attribution, subdomains, datum of the tiles).
ONLINE_BASEMAPS: dict[str, dict] = {
    "osm": {
        "tiles": ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"],
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "subdomains": "abc",
        "datum": "wgs84",
        "hosts": ("tile.openstreetmap.org", "www.openstreetmap.org"),  # tile template host, attribution link
        "name": "OpenStreetMap（在线）",
    },
    "tianditu": {
        "tiles": [
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
            "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
            "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default"
            "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        ],
        "attr": "天地图 &copy; 国家地理信息公共服务平台 (CGCS2000)",
        "subdomains": "01234567",
        "datum": "wgs84",
        "hosts": ("t{s}.tianditu.gov.cn",),
        "name": "天地图（在线）",
    },
    "amap": {
        "tiles": ["https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"],
        "attr": "高德地图 &copy; AutoNavi (GCJ-02)；叠加图层已转换为GCJ-02显示 · overlays shifted to GCJ-02 for display",
        "subdomains": "1234",
        "datum": "gcj02",
        "hosts": ("webrd0{s}.is.autonavi.com",),
        "name": "高德地图（在线）",
    },
}
BASEMAPS = ("offline", *ONLINE_BASEMAPS)


def read_geojson(path: Path) -> dict | None:
    """A GeoJSON FeatureCollection as a dict, or None when the file is missing or not one.

    Parsed once per version of the file (its modification time and size): every map the app builds draws the
    basemap and gazetteer. The dict is shared between callers: read it, never change it.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _parsed(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _parsed(path: str, _mtime_ns: int, _size: int) -> dict | None:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("features"), list) else None


def select_features(doc: dict | None, *, kinds: set[str] | None = None, key: str = "kind", geom_types: set[str]) -> list[dict]:
    """The features of ``doc`` with a geometry of ``geom_types`` and (when given) ``properties[key]`` in ``kinds``."""
    out = []
    for feat in (doc or {}).get("features", []):
        if not isinstance(feat, dict) or not isinstance(feat.get("geometry"), dict):
            continue
        props = feat.get("properties") or {}
        if kinds is not None and props.get(key) not in kinds:
            continue
        if feat["geometry"].get("type") not in geom_types:
            continue
        out.append(feat)
    return out


def subdistrict_outline(path: Path):
    """The subdistrict outline (``kind: outline`` polygons of the basemap file) as one WGS-84 geometry, or None.

    A file that declares ``"datum": "gcj02"`` (or BD-09) is converted to WGS-84 first.
    """
    import shapely

    from geo import crs as _crs

    doc = read_geojson(path)
    feats = select_features(doc, kinds={"outline"}, geom_types={"Polygon", "MultiPolygon"})
    if not feats:
        return None
    geoms = [shapely.geometry.shape(f["geometry"]) for f in feats]
    src = str(doc.get("datum") or "wgs84")
    if _crs.normalize_datum(src) != "wgs84":
        geoms = list(_crs.convert_geometries(geoms, src=src, dst="wgs84"))
    area = shapely.union_all(geoms)
    return None if area.is_empty else area
