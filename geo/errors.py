"""Exceptions of the engine.

Each subclasses a built-in so callers that only know Python's own exceptions
still catch them. A message names the file, the row or feature, the field and
what would fix it; the command line prints it as one line.
"""

from __future__ import annotations


class GeoError(Exception):
    """Base class of every error the engine raises on purpose."""


class SchemaError(GeoError, ValueError):
    """A data file does not follow its documented schema.

    Parameters
    ----------
    message
        One-line summary.
    problems
        Every problem found, one string each, so a user fixes the file in one pass.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        full = message if not self.problems else message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(full)
        self.summary = message

    def __reduce__(self):
        # pickled as its two parts, so the problems survive a trip between processes (geo.io.beside)
        return (type(self), (self.summary, self.problems))


class CRSError(GeoError, ValueError):
    """A coordinate reference system is missing, geographic where metres are needed, or mismatched."""


class DatumError(GeoError, ValueError):
    """A datum name is unknown, or coordinates cannot be converted between datums."""


class GeocodeError(GeoError, ValueError):
    """An address cannot be parsed or located."""


class DataFileError(GeoError, OSError):
    """A data file cannot be read or written (missing, unreadable, wrong format)."""


class ConflictError(GeoError, RuntimeError):
    """A save was refused because someone else changed the file since the edit began."""


class StoreError(GeoError, OSError):
    """The store (GeoPackage file or PostGIS database) cannot be reached, or its schema is missing or too old/new."""
