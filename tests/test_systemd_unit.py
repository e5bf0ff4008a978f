"""The unit file keeps its contract with the daemon: notify, watchdog, restart, user, state dir."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for raw in (ROOT / "systemd" / "sitecontroller.service").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_unit_runs_the_daemon_as_systemd_expects() -> None:
    s = unit_settings()
    assert s["Type"] == ["notify"]
    assert s["WatchdogSec"] and s["Restart"] == ["on-failure"]
    assert s["RestartForceExitStatus"] == ["75"]  # RESTART_EXIT_CODE of the daemon
    assert s["User"] == ["sitecontroller"]
    assert s["StateDirectory"] == ["sitecontroller"]
    assert "--state-dir /var/lib/sitecontroller" in s["ExecStart"][0]


def test_sandbox_still_reaches_can_serial_gpio_and_i2c() -> None:
    s = unit_settings()
    assert "AF_CAN" in s["RestrictAddressFamilies"][0]
    allowed = " ".join(s["DeviceAllow"])
    for device in ("char-ttyUSB", "char-ttyAMA", "char-gpiochip", "char-i2c", "/dev/watchdog"):
        assert device in allowed
    assert s["ProtectSystem"] == ["strict"] and s["NoNewPrivileges"] == ["yes"]


def test_restart_exit_code_matches_the_daemon() -> None:
    from sitecontroller.runtime.system_actions import RESTART_EXIT_CODE

    assert unit_settings()["RestartForceExitStatus"] == [str(RESTART_EXIT_CODE)]
