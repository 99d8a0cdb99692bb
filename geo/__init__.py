"""The engine of the Shahe patrol-coverage tool (沙河街道老旧小区巡防覆盖).

One topic per module, a package per topic that outgrew one file; none imports
Streamlit. Import the module you need::

    from geo import io, report
    table = report.coverage_table(io.read_estates(), io.read_routes())

Data and coordinates
    ``settings`` (defaults read at call time), ``errors``, ``schemas``, ``crs``
    (metric projection; WGS-84, GCJ-02 and BD-09), ``io`` (``tables``,
    ``features``, ``writers``: validating readers that take a path, bytes or a
    file object, atomic writers); ``_validate`` and ``_atomic`` hold the shared
    helpers.
Estates
    ``geocode`` (address parsing, offline gazetteer, online providers,
    surveyed overrides, building ``estates.geojson``).
Patrol coverage
    ``coverage`` (``rule``: :class:`~geo.coverage.rule.Rule` and the statuses;
    ``pairs``: the pair queries; ``kernels``; ``model``: :class:`CoverageModel`),
    ``report`` (tables for users and the report columns), ``extensions``
    (route-extension proposals; coverage never imports it), ``routes``
    (``load`` with GPX, ``edits`` for drafts, ``store`` for versioned saves).
Incidents
    ``incidents`` (taxonomy, times, store, importer, attribution, filters,
    risk, effect, heat, hot spots).
Maps
    ``maps`` (``mapview``: folium maps, ``labels``: colours and popups,
    ``offline``: assets, ``export``: self-contained HTML).

The command line is ``python -m geo`` (:mod:`geo.cli`). Synthetic layouts, the
demo-data generators and the benchmark live outside the engine, in ``benchmarks/``.
"""

__version__ = "0.1.0"
