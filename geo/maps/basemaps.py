"""The basemaps a map can use: the project's offline one and the online tile services.

Kept apart from :mod:`geo.maps.mapview` so the command line can list the
choices without importing folium.
"""

from __future__ import annotations

__all__ = ["BASEMAPS", "ONLINE_BASEMAPS"]

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
