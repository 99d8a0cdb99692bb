"""Interface texts, Chinese first, English as a switch."""

from __future__ import annotations

import re

import streamlit as st

from geo.incidents.taxonomy import CATEGORY_ENGLISH, SOURCES
from geo.maps import labels
from ui import state

LANGS = ("zh", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("沙河街道老旧小区巡防覆盖", "Shahe old-estate patrol coverage"),
    "demo_banner": (
        "演示数据：小区位置为近似定位（非实测），巡逻路线与警情为合成数据，不代表真实情况。",
        "Demo data: estate positions are approximate (not surveyed); patrol routes and incidents are synthetic, not real.",
    ),
    "lang": ("语言 / Language", "语言 / Language"),
    "view": ("视图", "View"),
    "view_overview": ("领导总览", "Leadership overview"),
    "view_map": ("巡防地图", "Patrol map"),
    "view_edit": ("路线调整", "Route editing"),
    "plan_toggle": ("方案：自动规划最省里程的路线延伸", "Plan: the extensions with the fewest added metres"),
    "plan_help": (
        "在道路上为各队伍规划绕行延伸，使每个小区至少被目标数量的队伍覆盖，总增加里程（往返）最少；可整体接受或按队伍接受，保存前可预览。",
        "Plans detours along the roads so every estate is covered by the target number of teams with the fewest added metres (there and back); accept it whole or team by team, previewed before saving.",
    ),
    "plan_k": ("目标", "Target"),
    "plan_k1": ("每个小区至少 1 支队伍覆盖", "at least 1 team per estate"),
    "plan_k2": ("交叉巡逻：至少 2 支队伍", "cross-patrol: at least 2 teams"),
    "plan_running": ("正在计算方案…", "Computing the plan…"),
    "plan_optimal": ("已证明最优", "proven optimal"),
    "plan_gap": ("时限内的最好方案，最优性差距 {gap}", "best plan within the time limit, optimality gap {gap}"),
    "plan_greedy": ("贪心方案（求解器未在时限内给出结果，未证明最优）", "greedy plan (the solver gave no plan in time; not proven optimal)"),
    "plan_unmeetable": ("以下小区附近可达的队伍不足 {k} 支，已按可达数量规划：{ids}", "Fewer than {k} teams can ever reach these estates; planned for as many as can: {ids}"),
    "plan_none": ("所有小区已达到目标，无需延伸。", "Every estate already meets the target; nothing to add."),
    "plan_summary": (
        "方案共 {n} 段延伸，增加里程 **{added} 米**（往返）；逐个小区分别延伸需 {sum} 米。{solver}。",
        "The plan has {n} detours adding **{added} m** (there and back); separate per-estate extensions would add {sum} m. {solver}.",
    ),
    "plan_col_team": ("队伍", "Team"),
    "plan_col_detours": ("延伸段数", "Detours"),
    "plan_col_cost": ("增加里程（米）", "Added metres"),
    "plan_col_kind": ("类型", "Kind"),
    "plan_col_estates": ("纳入小区", "Estates brought in"),
    "plan_col_measure": ("量算方式", "Measured"),
    "plan_details": ("方案明细", "Plan details"),
    "plan_kind_extension": ("延伸至一个小区", "extension to one estate"),
    "plan_kind_joined": ("一段延伸纳入多个小区", "one extension for several estates"),
    "plan_kind_gap_extension": ("最近队伍超出半径延伸（盲区）", "nearest team beyond the radius (gap)"),
    "plan_kind_new_police_loop": ("派出所新增巡逻（盲区）", "new police patrol loop (gap)"),
    "plan_accept": ("接受哪些队伍的延伸（可逐队接受）", "Accept the detours of these teams (team by team)"),
    "plan_pick_team": ("请至少选择一支队伍。", "Pick at least one team."),
    "plan_curve": ("每增加一段里程能多覆盖多少小区", "What each extra kilometre buys"),
    "plan_curve_caption": (
        "在给定的增加里程预算内，最多能让多少小区达到目标（最大覆盖模型，逐个预算求解）。",
        "For each budget of added metres, the most estates brought to the target (a maximal covering model, solved per budget).",
    ),
    "plan_curve_budget": ("预算（米）", "Budget (m)"),
    "plan_curve_metres": ("实际增加里程（米）", "Added metres"),
    "plan_curve_estates": ("达到目标的小区数", "Estates brought to target"),
    "view_register": ("台账", "Register"),
    "filters": ("筛选与规则", "Filters and rule"),
    "community": ("社区", "Community"),
    "batch": ("整治批次", "Batch"),
    "status": ("覆盖状态", "Status"),
    "radius": ("规则半径（米）", "Rule radius (m)"),
    "cover": ("覆盖距离（米）", "Cover distance (m)"),
    "strict": ("严格模式（附近每支队伍都须覆盖）", "Strict mode (every nearby team must cover)"),
    "shift": ("班次", "Shift"),
    "shift_any": ("全部", "Any"),
    "shift_day": ("白班", "Day"),
    "shift_night": ("夜班", "Night"),
    "basemap": ("底图", "Basemap"),
    "bands": ("显示{radius}范围与覆盖带", "Show the {radius} and cover bands"),
    "covered": ("已覆盖", "covered"),
    "coverable": ("应延伸覆盖", "coverable"),
    "gap": ("盲区", "gap"),
    "coverage_rate": ("覆盖率", "Coverage rate"),
    "estates": ("小区", "Estates"),
    "teams": ("巡防队伍", "Teams"),
    "uncovered_list": ("未覆盖小区及建议", "Uncovered estates and the recommended fix"),
    "by_community": ("按社区", "By community"),
    "by_batch": ("按批次", "By batch"),
    "incident_trend": ("警情趋势（合成数据）", "Incident trend (synthetic data)"),
    "effect": ("整治前后对比（合成数据）", "Before and after rectification (synthetic data)"),
    "risk": ("风险排序与三年名单（合成数据）", "Risk ranking and the three-year list (synthetic data)"),
    "col_rank": ("排名", "Rank"),
    "col_score": ("综合得分", "Score"),
    "col_proposed": ("建议批次", "Proposed batch"),
    "col_plan_year": ("方案批次", "Plan's batch"),
    "col_agreement": ("与方案比较", "Against the plan"),
    "risk_caption": (
        "方法：按 {start}–{end} 年每个小区周边 {radius} 米内的警情计算，五个互不重叠的分项（盗窃、其他侵财、其他刑事、矛盾纠纷、其他110警情，每起警情只属一项）"
        "先在小区间标准化（z 分数），再加权求和（权重 {weights}）；校正：无（排序不是检验）；注意：权重是政策选择。"
        "得分最高的三分之一建议第一批整治。与方案批次一致 {same}/{n}。相距很近的地址（如花园小区的8处）共用周边警情，排名相近。警情为合成演示数据，排序只演示方法。命令行：python -m geo rank。",
        "Method: incidents within {radius} m of each estate in {start}-{end}; five non-overlapping components (theft, other property crime, "
        "other criminal, disputes, other 110 calls; each incident in one) are z-scored across the estates, then weighted and summed "
        "(weights {weights}); correction: none (a ranking, not a test); caveat: the weights are a policy choice. The top third is proposed for the first batch. Same batch as the plan: {same}/{n}. "
        "Sites close together (the eight 花园小区 addresses) share the incidents around them and rank together. "
        "The incidents are synthetic demo data: the ranking only shows the method. Command line: python -m geo rank.",
    ),
    "downloads": ("下载", "Downloads"),
    "dl_csv": ("覆盖报告 CSV", "Coverage report CSV"),
    "dl_xlsx": ("覆盖报告 Excel", "Coverage report XLSX"),
    "dl_geojson": ("小区状态 GeoJSON", "Estates with status GeoJSON"),
    "dl_html": ("离线地图 HTML", "Offline map HTML"),
    "dl_briefing_pdf": ("一页简报 PDF", "One-page briefing PDF"),
    "dl_briefing_png": ("一页简报图片 PNG", "One-page briefing PNG"),
    "briefing_file": ("沙河巡防覆盖简报", "shahe_coverage_briefing"),
    "briefing_caption": ("简报含地图、两种解读下的覆盖数字、待解决的小区及最省的补救和数据来源，按当前筛选和规则在服务器上生成（约需数秒），不需互联网。",
                         "The briefing holds the map, the counts under both readings, the estates to fix with the cheapest fix and the data "
                         "sources, for the current filters and rule; drawn on the server in a few seconds, with no internet."),
    "heat": ("警情热力图", "Incident heat map"),
    "heat_categories": ("警情类别", "Categories"),
    "heat_sources": ("来源", "Sources"),
    "heat_years": ("年份", "Years"),
    "heat_hours": ("时段（小时）", "Hours of day"),
    "select_estate": ("查看小区", "Inspect estate"),
    "editor_password": ("编辑口令", "Editor password"),
    "editor_login": ("登录编辑", "Log in as editor"),
    "editor_locked": (
        "只读视图：{what}需要编辑权限（口令由管理员在 Streamlit secrets 或环境变量 SHAHE_EDITOR_PASSWORD 中设置）。",
        "Read-only view: {what} needs the editor role (password set by the administrator in Streamlit secrets or SHAHE_EDITOR_PASSWORD).",
    ),
    # what each view's editor role allows, for editor_locked
    "editor_what_edit": ("调整路线", "editing routes"),
    "editor_what_register": ("修正小区位置", "correcting estate positions"),
    "editor_what_progress": ("记录整治工作", "recording rectification work"),
    "editor_unset": (
        "未设置编辑口令：管理员须在 .streamlit/secrets.toml（editor_password）或环境变量 SHAHE_EDITOR_PASSWORD 中设置后才能编辑。",
        "No editor password is set: the administrator sets editor_password in .streamlit/secrets.toml or SHAHE_EDITOR_PASSWORD first.",
    ),
    "wrong_password": ("口令错误", "Wrong password"),
    "login_wait": ("口令错误次数过多，请 {s} 秒后再试。", "Too many wrong passwords; try again in {s} s."),
    "draw_hint": (
        "在地图上用左侧工具画线（新路线或延伸段），或上传 GeoJSON/GPX 文件；然后指定队伍并预览覆盖变化。",
        "Draw a line on the map (a new route or an extension) or upload a GeoJSON/GPX file; then assign a team and preview the change.",
    ),
    "upload": ("上传路线（GeoJSON / GPX）", "Upload route (GeoJSON / GPX)"),
    "datum": ("坐标系", "Datum"),
    "team_pick": ("指定队伍", "Team"),
    "new_team": ("新队伍", "New team"),
    "preview": ("预览覆盖变化", "Coverage change (preview)"),
    "changed": ("状态变化的小区", "Estates that change status"),
    "no_change": ("覆盖状态无变化", "No estate changes status"),
    "author": ("修改人", "Saved by"),
    "reason": ("修改原因", "Reason"),
    "save": ("保存路线", "Save routes"),
    "saved": ("已保存为第 {n} 版", "Saved as version {n}"),
    "history": ("历史版本", "Versions"),
    "audit_title": ("变更记录（全部数据）", "Change log (all data)"),
    "audit_where": ("数据库：{url}。每次保存一条记录：谁、何时、为何、改了什么。", "Store: {url}. One entry per save: who, when, why, what changed."),
    "audit_filter": ("按小区编号、队伍编号、记录编号或人名筛选", "Filter by estate id, team id, record id or person"),
    "audit_action": ("操作", "Action"),
    "audit_table": ("数据", "Data"),
    "audit_record": ("记录", "Record"),
    "restore": ("恢复到此版本", "Restore this version"),
    "discard": ("放弃草稿", "Discard draft"),
    "register_quality": ("定位质量", "Geocode quality"),
    "move_pin": ("修正位置（记录为实测坐标）", "Correct a position (recorded as surveyed)"),
    "record_override": ("记录实测坐标", "Record surveyed position"),
    "approx_note": (
        "位置为近似（根据自绘道路按门牌号插值），请以实测坐标替换。",
        "Positions are approximate (interpolated along roads drawn by the project); replace them with surveyed ones.",
    ),
}

# --- added with the views ---------------------------------------------------
TEXTS.update({
    "all": ("全部", "All"),
    "none": ("无", "None"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "total": ("合计", "Total"),
    "address": ("地址", "Address"),
    "month": ("月份", "Month"),
    "batch_label": ("{year}年批次", "batch {year}"),
    "map_settings": ("地图", "Map"),
    "basemap_offline": ("离线底图（本机，无需互联网）", "Offline basemap (this machine, no internet)"),
    "online_warning_short": ("需互联网", "needs internet"),
    "online_warning": (
        "已选择在线底图：浏览器将从互联网加载地图瓦片。内网环境请使用离线底图。",
        "An online basemap is chosen: the browser loads tiles from the internet. On a closed network use the offline basemap.",
    ),
    "tianditu_key": ("天地图密钥（tk）", "Tianditu key (tk)"),
    "radius_help": ("队伍路线距小区不超过此距离即为\"附近\"，须将其纳入巡逻（方案：1公里）。", "A team within this distance is nearby and must cover the estate (plan: 1 km)."),
    "cover_help": (
        "路线距小区不超过此距离即视为已覆盖。保持默认值 {point} 米时，以楼栋轮廓（面）表示的小区按 {polygon} 米计；改动后对所有小区统一使用所填距离。",
        "A route within this distance of the estate covers it. At the default of {point} m, estates drawn as footprints (polygons) use "
        "{polygon} m; any other value applies to every estate.",
    ),
    "strict_help": ("方案\"都应\"的严格解读：规则半径内每支队伍都须覆盖该小区。", "Strict reading of the plan: every team within the rule radius must cover the estate."),
    "coverage_rate_help": ("已覆盖小区占筛选后 {n} 个小区的比例。", "Share of the {n} filtered estates that are covered."),
    "rule_caption": ("规则半径 {radius} 米 · 覆盖距离 {cover} · {mode} · 班次：{shift}", "Rule radius {radius} m · cover distance {cover} · {mode} · shift: {shift}"),
    "cover_default": ("{point} 米（楼栋轮廓 {polygon} 米）", "{point} m ({polygon} m for footprints)"),
    "cover_value": ("{cover} 米", "{cover} m"),
    "mode_default": ("一般模式", "default mode"),
    "both_readings": ("两种解读对照", "Both readings of the rule"),
    "reading_default": ("一般解读", "Default reading"),
    "reading_strict": ("严格解读（都应）", "Strict reading (都应)"),
    "readings_caption": (
        "一般解读：至少一支队伍的路线进入覆盖距离即算已覆盖；严格解读按方案\"都应\"字面理解：规则半径内每支队伍都须覆盖，任何一支未覆盖的附近队伍都须延伸路线。",
        "Default reading: an estate is covered when at least one team's route comes within the cover distance; strict reading "
        "(都应 taken literally): only when every team within the rule radius covers it, so each nearby team that does not must extend.",
    ),
    "mode_strict": ("严格模式", "strict mode"),
    "all_covered": ("筛选范围内的小区均已覆盖。", "Every filtered estate is covered."),
    "fix_none": ("无需调整", "nothing to do"),
    "fix_gap": ("{radius}内无巡防队伍：须由派出所安排巡逻或组建新队伍", "no team within {radius}: the police station must arrange a patrol or a new team"),
    "fix_extend": ("由 {team} 延伸路线约 {m} 米（往返）", "{team} extends its route by about {m} m (there and back)"),
    "fix_coverable": ("附近队伍须延伸路线覆盖", "nearby teams must extend their routes"),
    "col_id": ("编号", "Id"),
    "col_seq": ("序号", "No."),
    "col_name": ("小区", "Estate"),
    "col_community": ("社区", "Community"),
    "col_batch": ("整治年度", "Batch"),
    "col_period": ("整治时间", "Window"),
    "col_buildings": ("楼栋", "Buildings"),
    "col_units": ("单元", "Units"),
    "col_status": ("覆盖状态", "Status"),
    "col_covering": ("覆盖队伍", "Covering teams"),
    "col_nearby": ("{radius}内队伍", "Teams within {radius}"),
    "col_nearest_m": ("最近队伍距离（米）", "Nearest team (m)"),
    "col_fix": ("建议", "Recommended fix"),
    "col_quality": ("定位质量", "Geocode quality"),
    "col_geocode_note": ("定位说明", "Geocode note"),
    "col_lon": ("经度", "Longitude"),
    "col_lat": ("纬度", "Latitude"),
    "col_team_id": ("队伍编号", "Team id"),
    "col_team": ("队伍", "Team"),
    "col_org": ("队伍类型", "Team type"),
    "col_shift": ("班次", "Shift"),
    "col_routes": ("路线", "Routes"),
    "col_route": ("最近路线", "Nearest route"),
    "col_covered_n": ("覆盖小区数", "Estates covered"),
    "col_nearby_n": ("{radius}内小区数", "Estates within {radius}"),
    "col_obliged": ("应延伸覆盖的小区", "Estates it must extend to"),
    "col_extension_m": ("需延伸（米，往返）", "Extension needed (m, there and back)"),
    "col_distance_m": ("距离（米）", "Distance (m)"),
    "col_covers": ("已覆盖", "Covers"),
    "col_obligation": ("义务", "Obligation"),
    "must_extend": ("须延伸覆盖", "must extend"),
    "col_estates_n": ("小区数", "Estates"),
    "col_rate_before": ("整治前 月均警情/小区", "Before: per estate-month"),
    "col_rate_after": ("整治后 月均警情/小区", "After: per estate-month"),
    "col_change": ("变化（%）", "Change (%)"),
    "col_p": ("p 值", "p-value"),
    "col_verdict": ("结论", "Verdict"),
    "col_before": ("调整前", "Before"),
    "col_after": ("调整后", "After"),
    "col_version": ("版本", "Version"),
    "col_saved_at": ("保存时间", "Saved at"),
    "col_routes_n": ("路线数", "Routes"),
    "col_restored_from": ("恢复自版本", "Restores version"),
    "no_incidents": ("没有警情数据（data/incidents.csv）。", "No incident data (data/incidents.csv)."),
    "synthetic_incidents": (
        "警情数据为合成的演示数据，不是真实警情；图表只演示分析方法。",
        "The incidents are synthetic demonstration data, not real; the charts only show the method.",
    ),
    "incidents_per_month": ("每月警情数（合成）", "Incidents per month (synthetic)"),
    "effect_caption": (
        "方法：数据月份 {start} 至 {end}，整治窗口按台账“整治时间”（含首尾月），比较窗口前后的月均数量（条件二项检验）；每起警情只计入 {radius} 米内最近的一个小区，批次合计按不重复的警情。"
        "校正：无（每批一次检验）。注意：没有对照组，全街道的共同趋势也会算进来；变化不等于整治的因果效果。合成数据。",
        "Method: data months {start} to {end}; the window is the ledger's rectification period (inclusive); monthly rates before and after it "
        "(conditional binomial test); each incident counts for the nearest estate within {radius} m, batch totals count distinct incidents. "
        "Correction: none (one test per batch). Caveat: no comparison group, so a district-wide trend counts too; a change is not proof that rectification caused it. Synthetic data.",
    ),
    "did_caption": (
        "双重差分（以尚未开始整治的后续批次为对照，距该批小区 300 米内的小区不作对照，警情各计入最近一个小区且只计一次；置换检验，Benjamini-Hochberg 校正；"
        "假定两组趋势平行，仍非因果证明）：{rows}",
        "Difference-in-differences (later batches before their own windows as the control, none within 300 m of the batch's estates; each incident "
        "counted once, for its nearest estate; placebo-permutation p, Benjamini-Hochberg correction; assumes parallel trends, still not proof of cause): {rows}",
    ),
    "did_row": ("{batch}批 {change}（FDR校正后 q {p}）", "batch {batch} {change} (q {p} after FDR)"),
    "did_too_short": ("{batch}批 对照期太短", "batch {batch} too short a comparison"),
    "did_no_control": ("{batch}批 无对照批次", "batch {batch} has no later batch to compare with"),
    "es_title": ("事件研究：整治窗口前后每月警情（合成数据）", "Event study: incidents by month around the rectification window (synthetic data)"),
    "es_x": ("相对整治开始的月份（0 = 窗口首月）", "Months from the window start (0 = first month)"),
    "es_y": ("实际 / 按对照推算（1 = 无变化）", "Observed / expected from controls (1 = no change)"),
    # the axis title on two lines (one per "\n"): on one line the English title was longer than the chart is high
    "es_y_axis": ("实际 / 按对照推算\n（1 = 无变化）", "Observed / expected\n(1 = no change)"),
    "es_observed": ("实际警情", "Observed incidents"),
    "es_expected": ("按对照推算", "Expected from controls"),
    "es_none": ("没有哪个批次在窗口之后还有尚未整治的对照批次，无法画事件研究。", "No batch has a not-yet-rectified batch to compare with after its window; no event study."),
    "es_caption": (
        "窗口 {window}（灰色）。方法：该批小区每月警情除以按尚未整治批次走势推算的数量（交错双重差分的事件研究；每起警情只计入 300 米内最近的小区，"
        "相距 300 米内的同批小区合为一处，对照不取距其 300 米内的小区）；阴影带为 {level}% 精确泊松区间（把对照当作已知，偏窄）。"
        "校正：无（这是图示；上面的批次结论已作 Benjamini-Hochberg 校正）。注意：假定两组趋势平行，窗口前应在 1 附近；仍非因果证明。合成数据。",
        "Window {window} (grey). Method: the batch's incidents per month over what the not-yet-rectified batches' course predicts "
        "(event study of the staggered difference-in-differences; each incident to the nearest estate within 300 m, estates of one batch within "
        "300 m of each other one site, no control within 300 m); band: exact {level}% Poisson interval (controls taken as known, so too narrow). "
        "Correction: none (a picture; the batch findings above are Benjamini-Hochberg corrected). Caveat: assumes parallel trends, so the line "
        "should stay near 1 before the window; not proof of cause. Synthetic data.",
    ),
    "effect_per_estate": ("各小区整治前后（合成数据）", "Before and after per estate (synthetic data)"),
    "downloads_caption": (
        "报告与 GeoJSON 仅含筛选后的小区；HTML 地图为单一文件，断网也能打开。位置为近似，路线为演示数据。",
        "Report and GeoJSON hold the filtered estates; the HTML map is one file that opens offline. Positions are approximate, routes are demo data.",
    ),
    "heat_filters": ("警情图层与筛选（合成数据）", "Incident layers and filters (synthetic data)"),
    "hotspots": ("热点网格（Gi*）", "Hot spots (Gi*)"),
    "hotspots_help": (
        "Getis-Ord Gi* 热点与冷点网格（200米）：经 Benjamini-Hochberg 错误发现率（FDR 5%）校正后仍显著的网格；冷点只在周边期望警情足够（≥5起）处判断。只说明警情在哪里聚集，不说明原因。",
        "Gi* hot and cold cells of 200 m that stay significant after Benjamini-Hochberg false-discovery-rate control (FDR 5 %); "
        "cold only where a neighbourhood expects at least 5 incidents. Where incidents gather, not why.",
    ),
    "heat_night": ("只看夜间（20:00–06:00）", "Night only (20:00–06:00)"),
    "heat_note": ("警情为合成演示数据", "incidents are synthetic demo data"),
    "heat_caption": ("热力图：{n} 起警情，{kind}，发送 {kb:.0f} KB（合成数据）", "Heat layer: {n} incidents, {kind}, {kb:.0f} KB sent (synthetic data)"),
    "heat_density_caption": ("热力图：{n} 起警情的核密度（{cell} 米网格，半径 {r} 米），只画街道范围内；在地图右下角切换年份和类别，地图不重载；发送 {kb:.0f} KB（合成数据）",
                             "Heat layer: kernel density of {n} incidents ({cell} m grid, {r} m radius), drawn inside the subdistrict only; "
                             "switch year and category at the map's lower right without reloading the map; {kb:.0f} KB sent (synthetic data)"),
    "heat_points": ("逐点显示", "as points"),
    "heat_grid": ("按 {cell} 米网格汇总", "summed on a {cell} m grid"),
    "select_help": ("也可以直接点击地图上的小区。", "Or click an estate on the map."),
    "estates_table": ("小区（筛选后 {n} / 共 {total}）", "Estates ({n} of {total} after filters)"),
    "no_team_nearby": ("{radius} 米内没有巡防队伍：盲区。", "No team within {radius} m: a gap."),
    "incidents_near": ("周边 {r} 米内警情（合成数据）", "Incidents within {r} m (synthetic data)"),
    "approx_short": ("位置为近似", "approximate position"),
    "save_conflict": (
        "未保存：路线文件在您开始编辑后已被修改（可能是他人保存或恢复了版本）。请重新加载页面，在最新路线上重新编辑后再保存。",
        "Not saved: the routes file changed after you started editing (someone else saved or restored a version). "
        "Reload the page and make the change again on the current routes.",
    ),
    "draft_layer": ("草稿路线 draft", "Draft route"),
    "editor_in": ("已登录编辑权限。", "Logged in as editor."),
    "editor_logout": ("退出", "Log out"),
    "editor_required": ("需要编辑权限。", "The editor role is needed."),
    "read_only": ("只读：登录编辑权限后才能保存。", "Read-only: log in as editor to save."),
    "datum_help": ("上传或粘贴坐标所用的坐标系；高德/腾讯为 GCJ-02，百度为 BD-09，GPS 与天地图为 WGS-84。", "Datum of uploaded or pasted coordinates: AMap/Tencent use GCJ-02, Baidu BD-09, GPS and Tianditu WGS-84."),
    "datum_wgs84": ("WGS-84 / CGCS2000（GPS、天地图）", "WGS-84 / CGCS2000 (GPS, Tianditu)"),
    "datum_gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (AMap, Tencent)"),
    "datum_bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "tab_draw": ("在地图上画线", "Draw on the map"),
    "tab_upload": ("上传文件", "Upload a file"),
    "tab_paste": ("粘贴 GeoJSON", "Paste GeoJSON"),
    "draw_caption": ("点击左侧折线工具，在地图上逐点单击，最后一点双击（或点\"Finish\"）完成。", "Pick the line tool on the left, click point by point, double-click the last point."),
    "paste": ("GeoJSON（线）", "GeoJSON (lines)"),
    "lines_found": ("已读取 {n} 条线。", "{n} line(s) read."),
    "team_mode": ("队伍", "Team"),
    "team_existing": ("现有队伍", "Existing team"),
    "new_route_shift": ("新路线班次", "Shift of the new route"),
    "new_route_shift_help": ("该队伍现有路线的班次：{shifts}", "Shifts of the team's current routes: {shifts}"),
    "pick_shift": ("请选择班次", "Choose a shift"),
    "pick_shift_needed": ("该队伍有多个班次的路线，请选择新路线的班次。", "This team has routes in several shifts: choose the new route's shift."),
    "team_new": ("新队伍", "New team"),
    "new_team_id": ("新队伍编号", "New team id"),
    "new_team_name": ("新队伍名称", "New team name"),
    "route_mode": ("新线用作", "The new lines are"),
    "route_add": ("增加路线（延伸段）", "added (an extension)"),
    "route_replace": ("替换该队伍全部路线", "replacing the team's routes"),
    "remove_routes": ("删除路线", "Delete routes"),
    "preview_map": ("预览地图", "Preview map"),
    "preview_too_big": ("路线共 {n} 个折点，超过预览上限 {cap}；请先简化路线再预览（覆盖统计不受影响）。",
                        "The routes have {n} vertices, more than the preview's {cap}; simplify them to preview (the coverage counts above are unaffected)."),
    "preview_slow": ("预览用时 {s} 秒，超过时间预算；路线很密时请先简化，或关闭预览。",
                     "The preview took {s} s, over its time budget; simplify dense lines or turn the preview off."),
    "save_needs": ("填写修改人和修改原因后才能保存。", "Give your name and a reason to save."),
    "restore_pick": ("选择版本", "Version"),
    "focus": ("点选数字，地图和清单只显示这些小区", "Pick a figure: the map and the list show only those estates"),
    "focus_all": ("全部 {n} 个", "all {n}"),
    "bad_line_points": ("这条线只有一个点（或各点重合），巡逻路线至少需要两个不同的点；草稿未保存，可修改后重试。",
                        "This line has only one point (or repeated points); a route needs at least two different points. Nothing was saved."),
    "bad_line_kind": ("这是面或点，不是线：巡逻路线请画成线（LineString）；草稿未保存。",
                      "This is a polygon or a point, not a line: give patrol routes as lines (LineString). Nothing was saved."),
    "bad_json": ("粘贴的内容不是有效的 GeoJSON，请检查括号和引号；草稿未保存。", "The pasted text is not valid GeoJSON; check its brackets and quotes. Nothing was saved."),
    "bad_gpx_waypoints": ("GPX 文件只有航点，没有轨迹（trk）或路线（rte）：请在设备上导出轨迹后再上传。",
                          "The GPX file has only waypoints, no track (trk) or route (rte): export the track and upload it again."),
    "bad_gpx": ("文件不是可读的 GPX，请重新导出。", "The file is not a readable GPX file; export it again."),
    "bad_file_type": ("只能上传 .geojson、.json 或 .gpx 文件。", "Upload a .geojson, .json or .gpx file."),
    "bad_too_big": ("文件太大：路线文件最多 {cap} MB，请简化路线或拆分文件后再上传；草稿未保存。",
                    "The file is too large: a route file may have at most {cap} MB; simplify the lines or split the file. Nothing was saved."),
    "bad_line_far": ("这条线不在沙河街道（离每个老旧小区都超过 {km} 公里）：请检查所选坐标系，以及坐标是否为经度、纬度；草稿未保存。",
                     "This line is not in Shahe (more than {km} km from every estate): check the datum chosen and that the "
                     "coordinates are longitude, latitude. Nothing was saved."),
    "bad_line_metres": ("坐标不是经纬度（像是以米为单位的投影坐标，如 EPSG:4545）：请先换算为 WGS-84、GCJ-02 或 BD-09 经纬度；草稿未保存。",
                        "The coordinates are not longitude and latitude (they look like metres, e.g. EPSG:4545): convert them to "
                        "WGS-84, GCJ-02 or BD-09 degrees first. Nothing was saved."),
    "bad_line_swapped": ("经度和纬度像是写反了：GeoJSON 先写经度后写纬度，请对调后重试；草稿未保存。",
                         "Latitude and longitude look swapped: GeoJSON puts longitude first; swap them and try again. Nothing was saved."),
    "restored": ("已恢复第 {n} 版（保存为第 {v} 版）", "Version {n} restored (saved as version {v})"),
    "restore_needs": ("先填写上方的修改人。", "Fill in your name above first."),
    "no_versions": ("尚无保存记录：第一次保存时会先存下现有文件作为第 1 版。", "No saves yet: the first save keeps the current file as version 1."),
    "override_help": (
        "输入实测坐标（选择坐标系），写入 data/geocode_overrides.csv，并重新生成 data/estates.geojson，该小区定位质量变为\"实测\"。",
        "Type surveyed coordinates (with their datum); they are written to data/geocode_overrides.csv and data/estates.geojson is rebuilt with quality 'surveyed'.",
    ),
    "override_note": ("说明（测量人、方法、日期）", "Note (who surveyed, how, when)"),
    "override_note_hint": ("例如：2024-05 派出所现场GPS测量", "e.g. GPS at the gate, May 2024"),
    "override_done": ("已记录 {id} 的实测位置：{lon}, {lat}（WGS-84，{q}）", "Recorded the surveyed position of {id}: {lon}, {lat} (WGS-84, {q})"),
    "current_position": ("当前位置：{lon}, {lat}（WGS-84，{q}）", "Current position: {lon}, {lat} (WGS-84, {q})"),
    "overrides_file": ("实测坐标表（data/geocode_overrides.csv）", "Surveyed positions (data/geocode_overrides.csv)"),
    "no_overrides": ("尚无实测坐标。", "No surveyed positions yet."),
    "load_error": ("数据文件有问题：", "A data file has a problem:"),
})


# Plan versus reality (ui/tracks.py).
TEXTS.update({
    "presence_layer": ("实际巡逻（按格汇总）", "Actual patrols (per cell)"),
    "presence_tip": ("本格巡逻 {minutes} 分钟 · {teams} 支队伍", "{minutes} min of patrol in this cell · {teams} team(s)"),
    "raw_layer": ("原始轨迹（近 {days} 天，仅编辑）", "Raw tracks (last {days} days, editors only)"),
    "visits_title": ("到访记录（GPS轨迹）", "Visits (GPS tracks)"),
    "synthetic_tracks_short": ("合成轨迹", "synthetic tracks"),
    "no_visits": ("轨迹中没有队伍到过本小区覆盖距离之内。", "No team came within the cover distance of this estate in the tracks."),
    "col_minutes": ("分钟", "Minutes"),
    "col_day": ("日期", "Day"),
    "col_start": ("到达", "Arrived"),
    "col_night": ("夜间", "Night"),
    "col_stop": ("停留{lo}-{hi}分钟", "Stop {lo}-{hi} min"),
    "visits_caption": (
        "共 {n} 次到访，其中停留 {lo:g}-{hi:g} 分钟 {stops} 次、夜间 {night} 次；距最近一次到访 {hours} 小时（截至最后一个定位点）。",
        "{n} visits, {stops} stops of {lo:g}-{hi:g} minutes, {night} at night; {hours} h since the last visit (at the last fix).",
    ),
    "plan_actual": ("计划与实际", "Plan vs actual"),
    "no_tracks": ("尚无巡逻轨迹：用 python -m geo tracks import 导入。", "No patrol tracks yet: import them with python -m geo tracks import."),
    "synthetic_tracks": (
        "巡逻轨迹为合成演示数据（scripts/make_demo_tracks.py），不代表真实巡逻情况。",
        "The patrol tracks are synthetic demonstration data (scripts/make_demo_tracks.py), not real patrols.",
    ),
    "col_planned_m": ("计划路线长度（米）", "Planned route (m)"),
    "col_patrolled_day": ("日均实际巡逻（米）", "Patrolled per day (m)"),
    "col_route_share": ("路线走到比例（%）", "Route covered (%)"),
    "col_obligations": ("应到小区已到", "Estates owed, visited"),
    "col_unmet": ("未到小区", "Not visited"),
    "plan_actual_caption": (
        "路线走到：轨迹经过路线 {tol} 米以内的部分；应到小区：路线覆盖及1公里规则要求纳入的小区，{days} 天内进入其 {cover} 米以内即算已到。",
        "Route covered: the part of each route the team's tracks passed within {tol} m; estates owed: those its routes cover or the 1-km rule obliges it to take in, visited when the team came within {cover} m in the {days} days.",
    ),
    "unvisited_nights": ("计划覆盖但近 {nights} 晚无人夜间到访的小区：{ids}", "Covered by the plan but no night visit in the last {nights} nights: {ids}"),
})


TEXTS.update({
    "view_progress": ("整治进度", "Rectification progress"),
    "as_of": ("统计截至", "Figures as of"),
    "rect_synthetic": ("整治记录为演示数据（合成），不是真实工作记录。", "The rectification records are demo data (synthetic), not real work records."),
    "measures_verified": ("已验收措施", "Measures verified"),
    "measures_overdue": ("逾期措施", "Measures overdue"),
    "meetings_valid": ("达标会议", "Valid meetings"),
    "meetings_invalid": ("不达标会议", "Meetings below the minimum"),
    "progress_caption": (
        "口径：措施逾期＝过了完成时限仍为计划或推进中；居民群众会议参会不少于{n}人为达标，不达标的会议保留并标注；"
        "批次时限过后仍无达标会议记为逾期事项；未整改问题＝最近一次排查发现、尚无已完成措施的问题。",
        "Method: a measure is overdue when its due date has passed and it is still planned or in progress; a residents' meeting is valid "
        "with at least {n} people, smaller meetings are kept and flagged; an estate without a valid meeting after its batch deadline has an "
        "overdue item; open problems are findings of the latest survey without a done measure.",
    ),
    "overdue_items": ("逾期事项（按逾期天数）", "Overdue items (most overdue first)"),
    "none_overdue": ("没有逾期事项。", "Nothing is overdue."),
    "invalid_meetings": ("不达标的居民群众会议（少于{n}人）", "Residents' meetings below the minimum ({n} people)"),
    "per_estate_progress": ("各小区进展", "Progress per estate"),
    "briefing": ("领导小组简报", "Briefing for the leading group"),
    "download_briefing_docx": ("下载简报（Word）", "Download the briefing (Word)"),
    "download_briefing_xlsx": ("下载简报表格（Excel）", "Download the briefing tables (Excel)"),
    "template_kind": ("记录类型", "Kind of record"),
    "download_template": ("下载导入模板", "Download the import template"),
    "rect_record": ("录入整治记录", "Record rectification work"),
    "tab_meeting": ("居民群众会议", "Residents' meeting"),
    "tab_survey": ("排查", "Survey"),
    "tab_measure": ("整治措施", "Measure"),
    "tab_status": ("措施进度与验收", "Measure status and verification"),
    "tab_import": ("批量导入", "Import a file"),
    "estate": ("小区", "Estate"),
    "date": ("日期", "Date"),
    "topic": ("会议主题", "Topic"),
    "attendance": ("参会人数", "Attendance"),
    "minutes": ("会议纪要", "Minutes"),
    "rect_author": ("填报人", "Recorded by"),
    "surveyor": ("排查人", "Surveyed by"),
    "record": ("保存记录", "Save the record"),
    "recorded": ("已保存 {id}", "Saved {id}"),
    "meeting_below": (
        "已保存 {id}：参会{n}人，少于{min}人，标注为不达标（记录保留）。",
        "Saved {id}: {n} people attended, fewer than {min}; kept and flagged as not meeting the plan.",
    ),
    "no_measures": ("尚无整治措施。", "No measures yet."),
    "no_surveys": ("尚无排查记录：先录入排查，再由排查生成措施。", "No surveys yet: record a survey first, then draft its measures."),
    "plan_from_survey": ("由排查生成措施（一区一策）", "Draft measures from a survey (one plan per estate)"),
    "no_findings": ("该次排查未发现需整治的问题。", "This survey found nothing that needs a measure."),
    "save_plan": ("保存这 {n} 项措施", "Save these {n} measures"),
    "measure": ("措施", "Measure"),
    "new_status": ("新状态（一次前进一步；退回须说明原因）", "New status (one step forward at a time; a step back needs a reason)"),
    "verified_by": ("验收人", "Verified by"),
    "rect_reason": ("原因或说明", "Reason or note"),
    "evidence": ("佐证材料（照片 JPEG/PNG 或 PDF）", "Evidence (photo JPEG/PNG or PDF)"),
    "rect_save": ("保存", "Save"),
    "import_file": ("CSV 或 XLSX 文件（模板表头）", "CSV or XLSX file (template headers)"),
    "import": ("导入", "Import"),
    "rejected_rows": ("{n} 行有问题，未导入任何记录：", "{n} rows have problems; nothing was imported:"),
    "row": ("行", "Row"),
    "imported": ("已导入 {n} 条记录", "Imported {n} records"),
})


# Map work for the editors: search, surveyed position and footprint on the map, route vertices, snapping.
TEXTS.update({
    "search_estate": ("搜索小区", "Find an estate"),
    "search_hint": ("输入编号、名称、社区或地址", "Type an id, name, community or address"),
    "search_help": ("选中后地图缩放到该小区并以黄圈标出。", "The map zooms to the estate picked and rings it in yellow."),
    "reg_map_mode": ("在地图上", "On the map"),
    "reg_mode_place": ("放置位置", "Place the position"),
    "reg_mode_draw": ("画小区范围", "Draw the footprint"),
    "reg_mode_place_help": (
        "单击地图放置实测位置，或拖动粉色标记；地图上读取的坐标按 WGS-84 记录（高德底图上先换算）。若坐标读自高德等国内网络地图，请在下方输入并选 GCJ-02。",
        "Click the map to place the surveyed position, or drag the pink pin; a position read from the map is recorded as WGS-84 "
        "(converted first on the AMap basemap). For coordinates read off a Chinese web map such as AMap, type them below and choose GCJ-02.",
    ),
    "reg_mode_draw_help": (
        "用左上角的多边形工具沿小区围墙画出范围，单击第一点闭合；范围须包含实测位置或距其不超过 50 米。",
        "Draw the estate's outline with the polygon tool (top left) and click the first corner to close it; "
        "it must contain the surveyed position or pass within 50 m of it.",
    ),
    "reg_pin_title": ("拖动到实测位置", "Drag to the surveyed position"),
    "reg_footprint_layer": ("小区范围（草稿）", "footprint (draft)"),
    "reg_preview": ("预览修改", "Preview of the change"),
    "reg_moved": ("位置移动", "Position moves by"),
    "unit_m": ("米", "m"),
    "reg_footprint_ok": ("小区范围：面积 {area} 平方米，距实测位置 {d} 米，可以保存。", "Footprint: {area} m², {d} m from the surveyed position; ready to save."),
    "reg_fp_invalid": ("小区范围的边相互交叉，请重新画，边不要交叉。", "The footprint's edges cross; draw it again without crossing edges."),
    "reg_fp_area": ("小区范围面积 {area} 平方米，不在 {lo}–{hi} 平方米之间，请检查。", "The footprint's area is {area} m², outside {lo}–{hi} m²; check it."),
    "reg_fp_far": ("小区范围距实测位置 {d} 米，须包含该位置或距其不超过 {near} 米。", "The footprint lies {d} m from the surveyed position; it must contain it or pass within {near} m."),
    "reg_footprint_clear": ("清除所画范围", "Clear the drawn footprint"),
    "reg_needs": ("保存前请填写修改人和说明。", "Give who records it and a note before saving."),
    "reg_footprint_saved": ("小区范围已一并保存。", "The footprint was saved with it."),
    "reg_datum_help": (
        "地图上放置的位置为 WGS-84；读自高德、腾讯地图的坐标选 GCJ-02，读自百度地图的选 BD-09，保存前换算为 WGS-84。",
        "A position placed on the map is WGS-84; choose GCJ-02 for coordinates read off AMap or Tencent and BD-09 for Baidu: "
        "they are converted to WGS-84 before saving.",
    ),
    "snap_roads": ("贴合道路", "Snap to roads"),
    "snap_help": ("把所画的线改为沿道路（地名库道路中心线）经过各节点的最短路径，预览中显示。",
                  "Replaces the drawn line by the shortest path along the roads (gazetteer centrelines) through its vertices; shown in the preview."),
    "snapped": ("已贴合道路：长 {m} 米，节点最多移动 {shift} 米，{n} 段无道路相连保持直线。",
                "Snapped to the roads: {m} m long, vertices moved up to {shift} m, {n} legs kept straight where no road connects."),
    "vertex_mode": ("修改已有路线的节点", "Edit the vertices of an existing route"),
    "vertex_mode_help": ("在地图上拖动已有路线的节点，路线编号、队伍和班次不变。", "Drag the vertices of an existing route on the map; its id, team and shift stay."),
    "vertex_route": ("要修改的路线", "Route to edit"),
    "vertex_pick": ("选择路线", "Pick a route"),
    "vertex_help": (
        "点击地图左上角的“编辑图形”，拖动粉色路线上的节点（拖动中点可增加节点），再点“保存”。",
        "Click “Edit layers” at the top left of the map, drag the vertices of the pink route (drag a middle handle to add one), then click “Save”.",
    ),
    "vertex_waiting": ("尚未修改节点。", "No vertex moved yet."),
    "vertex_source": ("路线节点修改", "edited route"),
    "vertex_changed": ("路线 {id} 已修改：{n} 个节点为新位置。", "Route {id} edited: {n} vertices at new positions."),
})


def lang() -> str:
    """Return the current interface language (``zh`` by default)."""
    return st.session_state.get(state.LANG, "zh")


def t(key: str, **fmt) -> str:
    """Return the interface text ``key`` in the current language."""
    zh, en = TEXTS[key]
    text = zh if lang() == "zh" else en
    return text.format(**fmt) if fmt else text


def radius_text(radius_m: float | None) -> str:
    """A rule radius as text in the current language ("1公里" / "1 km", "500米" / "500 m"), as the map writes it."""
    zh, en = labels.radius_text(radius_m)
    return zh if lang() == "zh" else en


def colon() -> str:
    """The colon after a label: full-width in Chinese, ``": "`` in English."""
    return "：" if lang() == "zh" else ": "


def list_sep() -> str:
    """The separator of a list of names or ids: ``、`` in Chinese, ``", "`` in English."""
    return "、" if lang() == "zh" else ", "


def category_label(name: str) -> str:
    """An incident category (stored in Chinese, e.g. 盗窃) in the current language."""
    return str(name) if lang() == "zh" else CATEGORY_ENGLISH.get(str(name), str(name))


def source_label(code: str) -> str:
    """An incident source (``110``, ``criminal_case``, ``dispute_register``) in the current language."""
    both = re.fullmatch(r"(.*) \((.*)\)", SOURCES.get(str(code), ""))
    if both is None:
        return str(code)
    return both[1] if lang() == "zh" else both[2]


def status_label(status: str) -> str:
    """Return the label of a coverage status in the current language."""
    return t(status) if status in ("covered", "coverable", "gap") else str(status)


# Texts of the response circles in the planner view (ui/response.py); the map's own texts are in geo/maps/texts.py.
TEXTS.update(
    {
        "response_outside_title": ("响应圈：{n} 个小区未达 {target} 分钟目标", "Response circles: {n} estate(s) outside the {target}-minute target"),
        "response_caption": (
            "从岗亭与巡逻点沿道路按道路等级车速计算（岗亭至道路步行）；地图图层“1-3-5分钟响应圈”可在图层控制中打开。",
            "Travel time from the posts and patrol positions along the roads at each road class's speed (on foot to the road); "
            "switch on the map layer “1-3-5 minute response circles” in the layer control.",
        ),
        "response_all_within": ("所有小区均在 {target} 分钟内可达。", "Every estate is reached within {target} minutes."),
        "response_not_reached": ("道路不连通，无法到达", "not reached"),
        "response_tier": ("{m} 分钟圈", "{m}-minute circle"),
        "response_tier_none": ("各圈之外", "outside every circle"),
        "response_col_time": ("用时（分钟）", "Time (min)"),
        "response_col_tier": ("所在圈层", "Circle"),
        "response_col_post": ("最近岗亭编号", "Nearest post"),
        "response_col_post_name": ("最近岗亭", "Post name"),
        "response_unavailable": ("响应圈无法计算：{problem}", "Response circles could not be computed: {problem}"),
    }
)
