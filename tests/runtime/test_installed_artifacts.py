"""A BMS DBC installed over the air is the one the node decodes with after its restart."""

from __future__ import annotations

from pathlib import Path

from sitecontroller.bms.can_service import binding_for
from sitecontroller.config.site import SiteConfig
from sitecontroller.runtime.daemon import with_installed_artifacts

ROOT = Path(__file__).resolve().parents[2]


def test_installed_dbc_replaces_the_bindings_dbc(tmp_path: Path) -> None:
    config = SiteConfig()
    assert with_installed_artifacts(config, tmp_path) == config  # nothing installed: unchanged
    installed = tmp_path / "cloud" / "artifacts" / "bms_dbc" / "bms.dbc"
    installed.parent.mkdir(parents=True)
    dbc_text = (ROOT / "dbc" / "pylontech.dbc").read_text()
    # A newer revision: same signals, its own version string, which the node must now report.
    installed.write_text(dbc_text.replace('VERSION "pylontech-lv 1.0"', 'VERSION "ota-2"', 1))
    updated = with_installed_artifacts(config, tmp_path)
    assert updated.bms.dbc_file == str(installed)
    binding = binding_for(updated.bms)
    assert binding.db.version == "ota-2"
