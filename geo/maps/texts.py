"""Texts of the coverage map in one language at a time: Chinese (``zh``, the default) or English (``en``).

Every label, legend line, popup field, layer name and Leaflet control text of
:mod:`geo.maps.mapview` and :mod:`geo.maps.labels` comes from here, so a map never mixes the two
languages (ids, units and proper nouns from the data aside).
"""

from __future__ import annotations

LANGS = ("zh", "en")

#: key -> (Chinese, English); ``{...}`` fields are filled by :func:`text`.
TEXTS: dict[str, tuple[str, str]] = {
    "legend": ("图例", "Legend"),
    "legend_fold": ("点击收起图例", "Click to fold the legend"),
    "legend_unfold": ("点击展开图例", "Click to unfold the legend"),
    "covered": ("已覆盖", "covered"),
    "coverable": ("应延伸覆盖：附近队伍须延伸", "coverable: nearby teams must extend"),
    "gap": ("盲区：{radius}内无队伍", "gap: no team within {radius}"),
    "unknown": ("未计算", "status not computed"),
    "estate": ("老旧小区", "old estate"),
    "layer_basemap": ("底图（近似）", "basemap (approximate)"),
    "layer_rule_band": ("{radius}范围", "{radius} band"),
    "layer_cover_band": ("覆盖范围", "cover band"),
    "layer_hotspots": ("热点网格（Gi*）", "hot-spot cells (Gi*)"),
    "layer_heat": ("警情热力", "incident heat"),
    "layer_routes": ("巡逻路线", "patrol routes"),
    "layer_extensions": ("延伸建议", "suggested extensions"),
    "layer_found": ("搜索到的小区", "estate found"),
    "layer_pin": ("原位置", "previous position"),
    "layer_estates": ("老旧小区", "old estates"),
    "routes_of": ("{org}巡逻路线", "{org} patrol route"),
    "extension_line": ("延伸建议（虚线）", "suggested extension (dashed)"),
    "hot": ("热点", "hot spot"),
    "cold": ("冷点", "cold spot"),
    "heat_scale": ("警情密度：低 → 高", "incident density: low → high"),
    "p_estate": ("小区", "Estate"),
    "p_id": ("编号", "Id"),
    "p_community": ("社区", "Community"),
    "p_address": ("地址", "Address"),
    "p_batch": ("整治年度", "Renovation year"),
    "p_status": ("状态", "Status"),
    "p_nearest": ("最近队伍", "Nearest team"),
    "p_covering": ("覆盖队伍", "Covering teams"),
    "p_within": ("{radius}内队伍", "Teams within {radius}"),
    "p_geocode": ("定位", "Position"),
    "p_note": ("注意", "Note"),
    "p_team": ("队伍", "Team"),
    "p_team_id": ("队伍编号", "Team id"),
    "p_type": ("类型", "Type"),
    "p_shift": ("班次", "Shift"),
    "p_route": ("路线编号", "Route"),
    "p_schedule": ("时间", "Schedule"),
    "p_length": ("延伸长度", "Extension"),
    "p_cell": ("网格", "Cell"),
    "p_category": ("类别", "Category"),
    "p_count": ("警情数", "Incidents"),
    "p_z": ("Gi* z 值", "Gi* z"),
    "p_p": ("p 值", "p-value"),
    "p_q": ("q 值（FDR 校正后）", "q-value (after FDR correction)"),
    "none": ("无", "none"),
    "metres": ("{m:,.0f} 米", "{m:,.0f} m"),
    "approx_position": ("位置为近似", "approximate position"),
    "synthetic_route": ("演示路线，非真实", "synthetic demo route, not real"),
    "note_basemap": ("底图为近似示意，非测绘数据", "the basemap is an approximate sketch, not survey data"),
    "note_estates": ("小区位置为近似定位，非实测", "estate positions are approximate, not surveyed"),
    "note_routes": ("巡逻路线含演示数据，非真实", "patrol routes include synthetic demo data"),
    "note_amap": ("高德底图为GCJ-02，叠加图层已转换显示", "AMap tiles are GCJ-02; overlays are shifted to match"),
    "attribution": ("底图：本项目自绘（近似，非测绘数据）", "Basemap drawn by the project (approximate, not survey data)"),
    "labels_layer": ("注记", "labels"),
    "heat_title": ("警情密度", "Incident density"),
    "heat_unit": ("起/平方公里·年（核密度，半径300米）", "per km² per year (kernel density, 300 m radius)"),
    "heat_top_note": ("最深色：高于全部网格的第95百分位", "darkest: at or above the 95th percentile of cells"),
    "heat_all_years": ("全部年份（年均）", "all years (yearly mean)"),
    "heat_all_categories": ("全部类别", "all categories"),
    "heat_period": ("年份：", "Year: "),
    "heat_category": ("类别：", "Category: "),
    "fullscreen": ("全屏显示", "Full screen"),
    "fullscreen_exit": ("退出全屏", "Exit full screen"),
    "group_same": ("{name}（{n}处）", "{name} ({n} sites)"),
    "group_mixed": ("{label} 等{n}处", "{label} and {more} more"),
}

ORG_LABELS: dict[str, tuple[str, str]] = {
    "police": ("派出所", "police station"),
    "property": ("物业保安", "property security"),
    "enterprise": ("企业保安", "enterprise security"),
    "school": ("学校保安", "school guards"),
    "volunteer": ("群防群治", "volunteer patrol"),
    "other": ("其他", "other"),
}
SHIFT_LABELS: dict[str, tuple[str, str]] = {"day": ("白天", "day"), "night": ("夜间", "night"), "all": ("全天", "all day")}
QUALITY_LABELS: dict[str, tuple[str, str]] = {
    "surveyed": ("实测", "surveyed"),
    "exact": ("门牌精确", "exact house number"),
    "interpolated": ("门牌插值（近似）", "interpolated house number (approximate)"),
    "partial": ("部分地址未用（近似）", "part of the address unused (approximate)"),
    "road": ("道路级（近似）", "road level (approximate)"),
    "failed": ("未能定位（近似）", "not found (approximate)"),
}

#: Leaflet.draw's texts (``L.drawLocal``) in Chinese; English is Leaflet.draw's own.
DRAW_ZH = {
    "draw": {
        "toolbar": {
            "actions": {"title": "取消绘制", "text": "取消"},
            "finish": {"title": "完成绘制", "text": "完成"},
            "undo": {"title": "删除最后一个点", "text": "撤销上一点"},
            "buttons": {"polyline": "画线（巡逻路线）", "polygon": "画多边形（小区范围）", "rectangle": "画矩形", "circle": "画圆",
                        "marker": "放置标记", "circlemarker": "放置圆点"},
        },
        "handlers": {
            "polyline": {"error": "<strong>错误：</strong>线不能自相交！",
                         "tooltip": {"start": "单击开始画线。", "cont": "单击继续画线。", "end": "单击最后一点完成画线。"}},
            "polygon": {"tooltip": {"start": "单击开始画多边形。", "cont": "单击继续画多边形。", "end": "单击第一点闭合多边形。"}},
            "marker": {"tooltip": {"start": "单击地图放置标记。"}},
            "circlemarker": {"tooltip": {"start": "单击地图放置圆点。"}},
            "rectangle": {"tooltip": {"start": "按住并拖动画矩形。"}},
            "circle": {"tooltip": {"start": "按住并拖动画圆。"}, "radius": "半径"},
            "simpleshape": {"tooltip": {"end": "松开鼠标完成绘制。"}},
        },
    },
    "edit": {
        "toolbar": {
            "actions": {"save": {"title": "保存修改", "text": "保存"}, "cancel": {"title": "取消编辑，放弃所有修改", "text": "取消"},
                        "clearAll": {"title": "清除所有图形", "text": "全部清除"}},
            "buttons": {"edit": "编辑图形", "editDisabled": "没有可编辑的图形", "remove": "删除图形", "removeDisabled": "没有可删除的图形"},
        },
        "handlers": {
            "edit": {"tooltip": {"text": "拖动节点或标记来编辑图形。", "subtext": "点击“取消”放弃修改。"}},
            "remove": {"tooltip": {"text": "点击要删除的图形。"}},
        },
    },
}


def text(key: str, lang: str = "zh", **fmt) -> str:
    """The map text ``key`` in ``lang`` (``zh`` or ``en``), with ``fmt`` filled in."""
    zh, en = TEXTS[key]
    out = en if lang == "en" else zh
    return out.format(**fmt) if fmt else out


def pick(pair: tuple[str, str], lang: str = "zh") -> str:
    """The ``lang`` half of a (Chinese, English) pair."""
    return pair[1] if lang == "en" else pair[0]


def check_lang(lang: str) -> str:
    """``lang`` when it is one of :data:`LANGS`; a ValueError naming the choices otherwise."""
    if lang not in LANGS:
        msg = f"unknown map language {lang!r}: use one of {', '.join(LANGS)}"
        raise ValueError(msg)
    return lang


#: Texts of the response-circle layer (:mod:`geo.maps.response_layer`).
TEXTS.update(
    {
        "layer_response": ("1-3-5分钟响应圈", "1-3-5 minute response circles"),
        "response_within": ("{m} 分钟内可达道路", "roads reached within {m} min"),
        "response_outside": ("未达响应目标的小区", "estate outside the response target"),
        "response_minutes": ("{m} 分钟", "{m} min"),
        "response_not_reached": ("道路不连通，无法到达", "not reached (the roads do not join it to any post)"),
        "response_target": ("目标 {m} 分钟", "target {m} min"),
        "response_note": ("沿道路按道路等级车速计算，岗亭至道路步行", "along the roads at each road class's speed; on foot to and from the road"),
    }
)
