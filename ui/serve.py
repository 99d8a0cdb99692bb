"""Serve the app, with its first page prepared while the server starts: ``python -m ui.serve [streamlit options]``.

``streamlit run app.py`` imports nothing of the app until the first browser
connects; that first page then waits for every import of the app (geopandas,
folium, SciPy, the engine: about 2 s) and, on the first start over a data
folder, for the embedded store to be made from its files (about 1 s on the
shipped data); the first visit of the progress view waits for the
rectification records' tables and matplotlib's first picture (about 1.5 s).
:func:`main` starts Streamlit's server as ``streamlit run`` does, and beside
it a thread (:func:`warm_up`) that does all of that, so a user who opens the
page a moment after the start no longer waits for it. A page opened sooner
waits only for what the thread has not done yet (Python's import lock, and
the store's own locks, which the app takes too).

Nothing the thread does changes what the app shows: it imports what the
app's script imports anyway, makes the store and fills the records' tables
exactly as the first page would (:func:`ui.data.ensure_store`,
:func:`geo.rectification.repository.open_records_store`). A failure there is
logged and left to the first page, which reports it as before.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

__all__ = ["APP", "main", "warm_up"]

#: The app's script.
APP = Path(__file__).resolve().parent.parent / "app.py"

_LOG = logging.getLogger("shahe.serve")


def warm_up() -> float:
    """Prepare what a first page and a first visit of the progress view wait for; seconds taken.

    Imports the app's modules, makes the data folder's embedded store when
    there is none, fills the rectification records' tables when they never
    held a record, and draws one picture with the Chinese font. Safe beside a
    running app: imports, the store's creation and the records' fill queue on
    their locks.
    """
    started = time.perf_counter()
    from geo._arrow_pool import use_jemalloc

    use_jemalloc()  # as app.py does first, so no Arrow buffer of the warm-up comes from another allocator
    # the views' modules, as app.py imports them (and through them the engine, the maps and the statistics)
    from ui import context, data, editor, overview, planner, progress, register, sidebar  # noqa: F401

    folder = data.data_folder()
    data.ensure_store(folder)
    # the progress view's first visit: the rectification records' tables (filled from the shipped files once, in one
    # transaction that waits for any other), and matplotlib with the Chinese font for its printed map
    from geo.maps import static_map
    from geo.rectification import repository

    repository.open_records_store(data_dir=folder).close()
    fig, _zh = static_map.new_figure("zh", figsize=(1, 1), dpi=50)
    fig.text(0.5, 0.5, "沙河")
    static_map.figure_bytes(fig, "png", dpi=50)
    return time.perf_counter() - started


def _warm_up_logged() -> None:
    try:
        seconds = warm_up()
    except Exception:  # noqa: BLE001 - the first page meets the same problem and reports it
        _LOG.warning("warm-up stopped; the first page will do the rest", exc_info=True)
        return
    _LOG.info("app prepared in %.1f s", seconds)


def main(argv: list[str] | None = None) -> int:
    """``streamlit run app.py ARGV`` with :func:`warm_up` in a thread beside the server's start."""
    threading.Thread(target=_warm_up_logged, name="shahe-warm-up", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
