"""UTF-16 without a BOM, Big5 and NUL bytes in CSV files (finding 11 of the attack)."""

from __future__ import annotations

import pytest

from geo.errors import DataFileError
from geo.incidents.importer import import_incidents
from geo.io.tables import detect_encoding, read_table

LEDGER = "estate_id,name,address,lon,lat\nSH-01,幸福小區,沙河街道鳳仙路457號,108.36,30.85\nSH-02,和平社區,臺灣街1號,108.37,30.85\n"


@pytest.mark.parametrize(("codec", "expected"), [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("big5", "cp950")])
def test_detected_and_read_without_garbling(tmp_path, codec, expected):
    path = tmp_path / "ledger.csv"
    path.write_bytes(LEDGER.encode(codec))
    assert detect_encoding(path) == expected
    df = read_table(path)
    assert df["name"].tolist() == ["幸福小區", "和平社區"]
    assert df["address"].tolist() == ["沙河街道鳳仙路457號", "臺灣街1號"]


def test_simplified_gb18030_stays_gb18030(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_bytes("estate_id,name,address\nSH-01,幸福小区,沙河街道凤仙路457号\nSH-02,和平社区,台湾街1号\n".encode("gb18030"))
    assert detect_encoding(path) == "gb18030"


def test_nul_bytes_are_refused_with_the_file_name(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"a,b\n1,\x00\x00\x00\x002\n\x00\x00x")
    with pytest.raises(DataFileError, match=r"export\.csv: contains NUL bytes"):
        detect_encoding(path)


def test_big5_incidents_import_keeps_the_text(tmp_path):
    src = tmp_path / "calls.csv"
    src.write_bytes("id,time,category,source,lon,lat,address\nB-1,2022-01-10 08:30,theft,110,108.36,30.85,鳳仙路457號\n"
                    "B-2,2022-01-11 09:00,theft,110,108.36,30.85,臺灣街1號\n".encode("big5"))
    store = tmp_path / "incidents.csv"
    assert import_incidents(src, out=store, geocoder=lambda a: None).imported == 2
    text = store.read_text(encoding="utf-8-sig")
    assert "鳳仙路457號" in text and "臺灣街1號" in text
