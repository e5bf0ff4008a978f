"""The integrator's register map is generated from the data, and the committed copy is current."""

from __future__ import annotations

import csv
from pathlib import Path

from sitecontroller.scada.controlmap import load_control_map
from sitecontroller.scada.mapdoc import DEFAULT_OUT, main, write_docs


def test_generated_docs_list_every_register(tmp_path: Path) -> None:
    markdown, table = write_docs(tmp_path)
    text = markdown.read_text()
    rows = list(csv.DictReader(table.open()))
    cmap = load_control_map()
    for name, point in cmap.points.items():
        assert f"`{name}`" in text
        assert {"map": "control", "address": str(point.address), "name": name}.items() <= next(
            r for r in rows if r["name"] == name
        ).items()
    wset = next(r for r in rows if r["name"] == "704.WSet")
    assert wset["access"] == "rw" and wset["type"] == "int32"


def test_committed_docs_are_current(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    for name in ("register-map.md", "register-map.csv"):
        assert (DEFAULT_OUT / name).read_text() == (tmp_path / name).read_text(), (
            f"docs/scada/{name} is stale: run python -m sitecontroller.scada.mapdoc"
        )
