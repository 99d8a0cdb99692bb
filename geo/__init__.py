"""The engine of the Shahe patrol-coverage tool (沙河街道老旧小区巡防覆盖).

One topic per module; none imports Streamlit. Import the module you need::

    from geo import coverage, io
    table = coverage.coverage_table(io.read_estates(), io.read_routes())

Data and coordinates
    ``settings`` (defaults read at call time), ``errors``, ``schemas``, ``crs``
    (metric projection; WGS-84, GCJ-02 and BD-09), ``io`` (validating readers,
    atomic writers).
Estates
    ``address`` (parsing Shahe addresses), ``geocode`` (offline gazetteer,
    overrides, AMap and Tianditu).
Patrol coverage
    ``routes`` (GPX, team checks), ``coverage`` (the 1-km rule),
    ``extensions`` (route-extension proposals), ``route_edits`` and
    ``route_store`` (drafts, versioned saves).
Incidents
    ``incidents`` (taxonomy, import), ``risk`` (ranking), ``effect``
    (before/after), ``heat`` (heat-layer payloads), ``hotspots`` (Gi*),
    ``demo_incidents`` (the synthetic demo set).
Maps
    ``mapview`` (folium maps), ``offline`` (local assets).
Scale
    ``scale`` (synthetic layouts), ``bench`` (``python -m geo bench``).

The command line is ``python -m geo`` (:mod:`geo.cli`).
"""

__version__ = "0.1.0"
