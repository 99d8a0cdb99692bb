"""Checking new rectification records against the register, the plan's years and each kind's rules."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo import settings
from geo.rectification.records import RecordKind, convert_value, measure_rules, normalise_headers, plausible_population
from geo.rectification.workflow import default_due_date, make_id

__all__ = ["validate_rows"]


def validate_rows(
    kind: RecordKind,
    df: pd.DataFrame,
    estates: pd.DataFrame,
    *,
    existing_ids=(),
    today: dt.date | None = None,
    first_row: int = 2,
) -> tuple[list[dict], list[tuple[int, str]]]:
    """Check new records of one kind.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    df
        The new records, with field names or template headers.
    estates
        The register: ``estate_id``, ``units`` and ``batch_period``/``batch_year``.
    existing_ids
        Ids already stored (a duplicate is refused).
    today
        The day against which future dates are refused (default: today).
    first_row
        Row number of the first record as a spreadsheet counts it (header = row 1).

    Returns
    -------
    (records, rejects)
        Clean records as dicts (ids filled in, defaults applied) and ``(row, reason)``
        for every rejected row, each reason naming the field and the fix.
    """
    today = today or dt.date.today()
    first_year, last_year = settings.plan_years
    df, header_problems = normalise_headers(df, kind)
    if header_problems:
        return [], [(1, p) for p in header_problems]
    register = {str(r.estate_id): r for r in estates.itertuples(index=False)}
    seen = set(map(str, existing_ids))
    records, rejects = [], []
    for i, raw in enumerate(df.to_dict("records")):
        row = first_row + i
        rec, problems = {}, []
        for f in kind.fields:
            try:
                rec[f.name] = convert_value(f, raw.get(f.name))
            except ValueError as exc:
                problems.append(f"field '{f.name}' ({f.header_zh}): {exc}")
                rec[f.name] = None
        for f in kind.fields:
            if f.required and rec.get(f.name) is None and f"field '{f.name}'" not in " ".join(problems):
                problems.append(f"field '{f.name}' ({f.header_zh}) is empty: fill it in")
        est = register.get(str(rec.get("estate_id"))) if rec.get("estate_id") else None
        if rec.get("estate_id") and est is None:
            problems.append(f"field 'estate_id': {rec['estate_id']!r} is not an estate of the register; use an id such as SH-01")
        for name in ("date", "due_date", "verified_on"):
            if rec.get(name) is None or name not in kind.columns:
                continue
            day = dt.date.fromisoformat(rec[name])
            if name != "due_date" and day > today:
                problems.append(f"field '{name}': {rec[name]} is in the future; record what has happened")
            if not first_year <= day.year <= last_year:
                problems.append(f"field '{name}': {rec[name]} lies outside the plan's years {first_year}-{last_year}")
        problems += _kind_rules(kind.name, rec, est)
        if problems:
            rejects.append((row, "; ".join(problems)))
            continue
        if kind.name == "measures":
            rec["status"] = rec.get("status") or "planned"
            if rec.get("due_date") is None:
                rec["due_date"] = default_due_date(est).isoformat()
        rec["synthetic"] = bool(rec.get("synthetic") or False)
        rec[kind.id_field] = rec.get(kind.id_field) or make_id(kind, rec, taken=seen)
        if rec[kind.id_field] in seen:
            rejects.append((row, f"field '{kind.id_field}': {rec[kind.id_field]!r} is already recorded; give a new id or edit that record"))
            continue
        seen.add(rec[kind.id_field])
        records.append(rec)
    return records, rejects


def _kind_rules(name: str, rec: dict, est) -> list[str]:
    problems = []
    if name == "meetings" and rec.get("attendance") is not None:
        n = rec["attendance"]
        most = plausible_population(getattr(est, "units", None)) if est is not None else None
        if n < 0:
            problems.append(f"field 'attendance': {n} is negative; give the number of people present")
        elif most is not None and n > most:
            problems.append(
                f"field 'attendance': {n} is more than the estate could hold ({most} = units x "
                f"{settings.residents_per_unit_max}); check the number"
            )
    if name == "visits" and rec.get("people") is not None and rec["people"] < 0:
        problems.append(f"field 'people': {rec['people']} is negative")
    if name == "surveys":
        pct = rec.get("fee_collection_pct")
        if pct is not None and not 0 <= pct <= 100:
            problems.append(f"field 'fee_collection_pct': {pct} is not a percentage from 0 to 100")
        for f in ("cameras", "disputes_neighbour", "disputes_family", "disputes_relationship", "disputes_debt", "disputes_other",
                  "disputes_open"):
            if rec.get(f) is not None and rec[f] < 0:
                problems.append(f"field '{f}': {rec[f]} is negative")
    if name == "measures":
        problems += measure_rules(rec)
    return problems
