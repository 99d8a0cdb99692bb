"""Maps: ``mapview`` (folium maps), ``labels`` (colours, labels and popups), ``offline`` (local assets) and ``export`` (self-contained HTML)."""
