"""Maps: ``mapview`` (folium maps), ``offline`` (local assets) and ``export`` (self-contained HTML)."""
