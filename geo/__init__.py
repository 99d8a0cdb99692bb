"""The engine of the Shahe patrol-coverage tool (沙河街道老旧小区巡防覆盖).

One topic per module, a package per topic that outgrew one file; none imports
Streamlit. Import the module you need::

    from geo import io, report
    table = report.coverage_table(io.read_estates(), io.read_routes())

Data and coordinates
    ``settings`` (defaults read at call time), ``errors``, ``schemas``, ``crs``
    (metric projection; WGS-84, GCJ-02 and BD-09), ``io`` (validating readers of
    tables and features, atomic writers).
Estates
    ``geocode`` (address parsing, offline gazetteer, online providers,
    surveyed overrides, building ``estates.geojson``).
Patrol coverage
    ``coverage`` (the 1-km rule: rule, kernels, :class:`CoverageModel`),
    ``report`` (tables for users), ``extensions`` (route-extension proposals),
    ``routes`` (reading and GPX, drafts, versioned saves).
Incidents
    ``incidents`` (taxonomy, times, store, importer, risk, effect, heat, hot spots).
Maps
    ``maps`` (folium maps, offline assets, self-contained HTML export).

The command line is ``python -m geo`` (:mod:`geo.cli`). Synthetic layouts, the
demo-data generators and the benchmark live outside the engine, in ``benchmarks/``.
"""

__version__ = "0.1.0"
