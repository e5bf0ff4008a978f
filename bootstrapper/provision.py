"""Provisioning steps, each idempotent and recorded in a state file, so an interrupted first boot
(power cut, missing network) resumes where it stopped and a finished one does nothing again."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from masterController.transport.keys import generate_keys
from sitecontroller.config.loader import load_site, merge_patch, parse_text, validate_site
from sitecontroller.runtime.atomic import atomic_write_text

SYSTEMD_FILES = {
    "sitecontroller.service": "etc/systemd/system/sitecontroller.service",
    "sitecontroller.sysusers.conf": "etc/sysusers.d/sitecontroller.conf",
    "50-sitecontroller-reboot.rules": "etc/polkit-1/rules.d/50-sitecontroller-reboot.rules",
    "80-can0.network": "etc/systemd/network/80-can0.network",
}


@dataclass(frozen=True)
class Plan:
    root: Path  # "/" on the Pi; a temporary directory in tests
    node_id: str
    site_id: str
    template: Path
    systemd_dir: Path
    cluster_keys: bool = False

    @property
    def site_file(self) -> Path:
        return self.root / "etc/sitecontroller/site.json"

    @property
    def keys_dir(self) -> Path:
        return self.root / "etc/sitecontroller/cluster-keys"

    @property
    def state_file(self) -> Path:
        return self.root / "var/lib/sitecontroller-bootstrap/state.json"


def write_site_parameters(plan: Plan) -> str:
    """The template with this node's identity; never overwrites parameters an installer edited."""
    if plan.site_file.exists():
        load_site(plan.site_file)  # an existing file must still be valid
        return f"kept existing {plan.site_file}"
    data = parse_text(plan.template.read_text(), str(plan.template))
    data = merge_patch(data, {"identity": {"node_id": plan.node_id, "site_id": plan.site_id}})
    validate_site(data, str(plan.template))
    atomic_write_text(plan.site_file, json.dumps(data, indent=2))
    return f"wrote {plan.site_file}"


def write_cluster_keys(plan: Plan) -> str:
    if not plan.cluster_keys:
        return "cluster keys not requested"
    if (plan.keys_dir / f"{plan.node_id}.key_secret").exists():
        return "cluster keys already present"
    generate_keys(plan.keys_dir, [plan.node_id])
    (plan.keys_dir / f"{plan.node_id}.key_secret").chmod(0o600)
    return f"CURVE keys for {plan.node_id} in {plan.keys_dir} (copy {plan.node_id}.key to the other nodes)"


def install_systemd_files(plan: Plan) -> str:
    for name, target in SYSTEMD_FILES.items():
        destination = plan.root / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plan.systemd_dir / name, destination)
    return f"installed {len(SYSTEMD_FILES)} systemd files under {plan.root}"


STEPS: dict[str, Callable[[Plan], str]] = {
    "site_parameters": write_site_parameters,
    "cluster_keys": write_cluster_keys,
    "systemd_files": install_systemd_files,
}


def provision(plan: Plan, report: Callable[[str], None] = print) -> dict[str, str]:
    """Run the steps not yet done; returns what each step did (this run or an earlier one)."""
    done: dict[str, str] = json.loads(plan.state_file.read_text()) if plan.state_file.exists() else {}
    for name, step in STEPS.items():
        if name in done:
            report(f"{name}: done earlier ({done[name]})")
            continue
        done[name] = step(plan)
        atomic_write_text(plan.state_file, json.dumps(done, indent=1))
        report(f"{name}: {done[name]}")
    return done
