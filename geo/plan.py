"""The plan's calendar: each batch's rectification window (整治时间) and its deadline.

The ledger writes a batch's window as ``2022年1月至2022年11月``; a blank cell
means January to November of the batch year, as the plan's first batch reads.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from geo._validate import ascii_text

__all__ = ["batch_deadline", "parse_batch_period"]

_EPOCH_YEAR = 1970


_YM = r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*月?"
_PERIOD_RE = re.compile(rf"^{_YM}\s*(?:至|到|~|-|—|–)\s*(?:(\d{{4}})\s*[年./-]\s*)?(\d{{1,2}})\s*月?$")


def parse_batch_period(text) -> tuple[int, int] | None:
    """Months of a rectification window such as ``2022年1月至2022年11月``.

    Also accepted: ``2022年1月-11月`` (end year omitted: the start's),
    ``2022-01至2022-11``, ``2022.1-2022.11``, full-width digits.

    Parameters
    ----------
    text
        The ledger's ``batch_period`` cell.

    Returns
    -------
    (first, last) or None
        Month indices since 1970-01 (as :func:`geo.incidents.month_index`), both
        inclusive; None for a blank cell.

    Raises
    ------
    ValueError
        With the reason, when the text is not such a period, a month is not
        1-12 or the end comes before the start.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return None
    clean = ascii_text(str(text)).strip()
    if not clean:
        return None
    m = _PERIOD_RE.match(clean)
    if not m:
        msg = f"{text!r} is not a period; write it like 2022年1月至2022年11月"
        raise ValueError(msg)
    y0, m0, y1, m1 = int(m.group(1)), int(m.group(2)), int(m.group(3) or m.group(1)), int(m.group(4))
    if not (1 <= m0 <= 12 and 1 <= m1 <= 12):
        msg = f"{text!r} has a month outside 1-12"
        raise ValueError(msg)
    first, last = (y0 - _EPOCH_YEAR) * 12 + m0 - 1, (y1 - _EPOCH_YEAR) * 12 + m1 - 1
    if last < first:
        msg = f"{text!r} ends before it starts"
        raise ValueError(msg)
    return first, last


def batch_deadline(estate) -> dt.date:
    """Last day of an estate's rectification window.

    Parameters
    ----------
    estate
        A register row (dict or record) with ``batch_period`` and ``batch_year``; a
        period that is blank or does not parse means November of ``batch_year``.
    """
    get = estate.get if isinstance(estate, dict) else (lambda k, d=None: getattr(estate, k, d))
    try:
        months = parse_batch_period(get("batch_period"))
    except ValueError:
        months = None
    if months is not None:
        year, month = _EPOCH_YEAR + months[1] // 12, months[1] % 12 + 1
    else:
        year, month = int(get("batch_year")), 11
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
