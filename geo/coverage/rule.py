"""The statuses of the 1-km rule and its shift filter.
"""

from __future__ import annotations

#: Estate statuses, in code order (0, 1, 2).
STATUSES: tuple[str, ...] = ("gap", "coverable", "covered")
_GAP, _COVERABLE, _COVERED = 0, 1, 2

#: Chinese label of each status, the one wording every table, map and page uses.
STATUS_LABELS_ZH: dict[str, str] = {"covered": "已覆盖", "coverable": "应延伸覆盖", "gap": "盲区"}

#: Shifts whose routes count for a shift filter.
_SHIFT_ROUTES = {None: ("day", "night", "all"), "day": ("day", "all"), "night": ("night", "all")}


def _check_shift(shift: str | None) -> str | None:
    if shift is None or shift == "all":
        return None
    if shift not in _SHIFT_ROUTES:
        msg = f"unknown shift filter {shift!r}: use 'day', 'night' or leave it out for every route"
        raise ValueError(msg)
    return shift
