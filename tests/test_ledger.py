"""The register must match the plan's attachment row for row."""

import csv
import re
from pathlib import Path

import pytest

from geo import settings

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "work-plan.txt"


@pytest.fixture(scope="module")
def ledger():
    with open(settings.data_path("ledger.csv"), encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_24_rows_8_per_batch(ledger):
    assert len(ledger) == 24
    for year in ("2022", "2023", "2024"):
        assert sum(r["batch_year"] == year for r in ledger) == 8


def test_totals_of_buildings_and_units(ledger):
    # Summed by hand from the printed attachment: 16+8+28 buildings, 30+16+50 units.
    assert sum(int(r["buildings"]) for r in ledger) == 52
    assert sum(int(r["units"]) for r in ledger) == 96


def test_ids_are_unique_and_stable(ledger):
    assert [r["estate_id"] for r in ledger] == [f"SH-{i:02d}" for i in range(1, 25)]


def test_shared_names_are_separate_sites(ledger):
    garden = [r for r in ledger if r["name"] == "花园小区"]
    assert len(garden) == 8
    assert len({r["address"] for r in garden}) == 8


@pytest.mark.skipif(not SEED.exists(), reason="the plan's text (shared/seed/work-plan.txt) is not beside the checkout")
def test_rows_match_the_printed_attachment(ledger):
    text = SEED.read_text(encoding="utf-8")
    attachment = text[text.index("沙河街道老旧小区三年整治计划台账", text.index("附件：") + 10):]
    cells = [c.strip() for c in re.split(r"[\t\n]+", attachment) if c.strip()]
    # After the header, rows are: [period...] community, name, address, buildings, units.
    communities = {"凤仙路社区", "申明社区", "沙河社区", "花青路社区"}
    printed = []
    for i, cell in enumerate(cells):
        if cell in communities:
            printed.append(tuple(cells[i : i + 5]))
    assert [(r["community"], r["name"], r["address"], r["buildings"], r["units"]) for r in ledger] == printed
