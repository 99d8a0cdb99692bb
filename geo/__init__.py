"""The engine of the Shahe patrol-coverage tool (沙河街道老旧小区巡防覆盖).

One topic per module, a package per topic that outgrew one file; none imports
Streamlit. Import the module you need::

    from geo import io, report
    table = report.coverage_table(io.read_estates(), io.read_routes())

Data and coordinates
    ``settings`` (defaults read at call time), ``errors``, ``schemas``, ``crs``
    (metric projection; WGS-84, GCJ-02 and BD-09), ``io`` (``tables``,
    ``features``, ``writers``: validating readers that take a path, bytes or a
    file object, atomic writers); ``_validate``, ``_atomic``, ``_lock`` and
    ``_outputs`` hold the shared helpers (validation, atomic writes, the store
    lock, output guards); ``store`` is the embedded or PostGIS store with its
    audit trail.
Estates
    ``geocode`` (address parsing, offline gazetteer, online providers,
    surveyed overrides, building ``estates.geojson``).
Patrol coverage
    ``coverage`` (``rule``: :class:`~geo.coverage.rule.Rule` and the statuses;
    ``pairs``: the pair queries; ``kernels``; ``model``: :class:`CoverageModel`),
    ``report`` (tables for users and the report columns), ``extensions``
    (route-extension proposals and the road network; coverage never imports it),
    ``roadends`` (road ends joined to the road they stop short of), ``routes``
    (``load`` with GPX, ``edits`` for drafts, ``store`` for versioned saves),
    ``optimise`` (optimal route extensions), ``response`` (1-3-5 minute tiers),
    ``tracks`` (patrol tracks, check-ins, dosage, plan against actual).
Incidents
    ``incidents`` (taxonomy, times, store (CSV or GeoParquet), importer (with its
    column-wise checks and Parquet archives), attribution, filters,
    risk, effect, difference-in-differences, FDR, hot spots, emerging hot
    spots, near repeat, heat, density).
Carrying out the plan
    ``plan`` (batch windows), ``rectification`` (surveys, measures, meetings,
    visits, progress, the leading group's briefing).
Maps
    ``maps`` (``mapview``: folium maps, ``texts``: both languages, ``labels``:
    colours and popups, ``controls``: Leaflet behaviours, ``basemaps``,
    ``offline``: assets, ``export``: self-contained HTML, ``heat_layer``: the
    density layer and its year slider, ``estate_marks``: estate labels and groups).

The command line is ``python -m geo`` (:mod:`geo.cli`). Synthetic layouts, the
demo-data generators and the benchmark live outside the engine, in ``benchmarks/``.
"""

__version__ = "0.1.0"
