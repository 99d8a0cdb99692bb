"""The question the 1-km rule answers: :class:`Rule` (radius, cover distance, strict reading, shift), the statuses and the shift filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo import settings

#: Estate statuses, in code order (0, 1, 2).
STATUSES: tuple[str, ...] = ("gap", "coverable", "covered")
GAP, COVERABLE, COVERED = 0, 1, 2

#: Chinese label of each status, the one wording every table, map and page uses.
STATUS_LABELS_ZH: dict[str, str] = {"covered": "已覆盖", "coverable": "应延伸覆盖", "gap": "盲区"}

#: Route shifts that patrol in each shift filter (None: every route).
SHIFT_ROUTES: dict[str | None, tuple[str, ...]] = {None: ("day", "night", "all"), "day": ("day", "all"), "night": ("night", "all")}


def check_shift(shift: str | None) -> str | None:
    """Return the shift filter (``"day"``, ``"night"``, or None for every route; ``"all"`` means None).

    Raises
    ------
    ValueError
        For any other value.
    """
    if shift is None or shift == "all":
        return None
    if shift not in SHIFT_ROUTES:
        msg = f"unknown shift filter {shift!r}: use 'day', 'night' or leave it out for every route"
        raise ValueError(msg)
    return shift


def patrols_in(route_shifts, shift: str | None) -> np.ndarray:
    """Boolean mask of the routes that patrol in ``shift``: routes of that shift and of every shift (``all``).

    Parameters
    ----------
    route_shifts
        Each route's shift (``day``, ``night`` or ``all``).
    shift
        The filter; None keeps every route.
    """
    return np.isin(np.asarray(route_shifts, dtype=object), SHIFT_ROUTES[check_shift(shift)])


@dataclass(frozen=True)
class Rule:
    """The question the coverage answers.

    Parameters
    ----------
    radius_m
        Rule radius in metres (inclusive); None: :data:`geo.settings.rule_radius_m`
        when the model is built.
    cover_m
        Cover distance in metres (inclusive), a number for every estate; None:
        the settings' defaults for address points and for footprints.
    strict
        Strict reading: an estate is covered only when every nearby team covers it.
    shift
        ``"day"`` or ``"night"`` keeps the routes of that shift and of every
        shift; None (or ``"all"``) keeps every route.
    """

    radius_m: float | None = None
    cover_m: float | None = None
    strict: bool = False
    shift: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shift", check_shift(self.shift))
        object.__setattr__(self, "strict", bool(self.strict))

    @property
    def resolved_radius_m(self) -> float:
        """The radius in metres, the settings' default when none was given (read now)."""
        return float(settings.rule_radius_m if self.radius_m is None else self.radius_m)


def as_rule(rule: Rule | None = None, *, radius_m: float | None = None, cover_m=None, strict: bool = False, shift: str | None = None) -> Rule:
    """The :class:`Rule` of a call that takes either ``rule=`` or the four keyword arguments.

    Raises
    ------
    ValueError
        If both a rule and one of the keyword arguments are given.
    TypeError
        On an unknown keyword argument.
    """
    if rule is None:
        return Rule(radius_m=radius_m, cover_m=cover_m, strict=strict, shift=shift)
    if radius_m is not None or cover_m is not None or strict or shift is not None:
        msg = "give either rule= or radius_m/cover_m/strict/shift, not both"
        raise ValueError(msg)
    return rule
