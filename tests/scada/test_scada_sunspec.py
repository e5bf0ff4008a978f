"""pysunspec2's own client against the running server: scan, read every model, write WSet and
WMaxLimPct with the effect visible in the simulated site, read-back, RvrtTms reversion, heartbeat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import sunspec2.modbus.client as ssclient
from scada_site import ScadaSite

from sitecontroller.scada.sunspec_view import DER_MODELS

T = TypeVar("T")


async def blocking(call: Callable[[], T]) -> T:
    """pysunspec2's client is synchronous: run it off the loop that serves it."""
    return await asyncio.to_thread(call)


@pytest.fixture
async def device(site: ScadaSite) -> Any:
    dev = ssclient.SunSpecModbusClientDeviceTCP(
        slave_id=1, ipaddr="127.0.0.1", ipport=site.server.port, timeout=2
    )
    await blocking(dev.scan)
    yield dev
    dev.close()


async def test_scan_finds_and_reads_every_model(site: ScadaSite, device: Any) -> None:
    found = [mid for mid in device.models if isinstance(mid, int)]
    assert found == list(DER_MODELS)
    for model_id in found:
        model = device.models[model_id][0]
        await blocking(model.read)
        assert model.ID.value == model_id
    status = site.status()
    assert device.common[0].SN.value == "sim-node-1"
    assert device.models[713][0].SoC.cvalue == pytest.approx(float(status["soc_pct"]), abs=0.1)  # type: ignore[arg-type]
    assert device.models[702][0].WMaxRtg.cvalue == 5000
    assert device.models[701][0].InvSt.value == 3  # RUNNING


async def test_wset_acts_and_reads_back_within_a_second(site: ScadaSite, device: Any) -> None:
    m704 = device.models[704][0]
    await blocking(m704.read)
    m704.WSetMod.value = 1  # watts
    m704.WSet.cvalue = -2500
    m704.WSetEna.value = 1
    started = time.monotonic()
    await blocking(m704.write)
    await blocking(m704.read)
    assert time.monotonic() - started < 1.0
    assert m704.WSet.cvalue == -2500 and m704.WSetEna.value == 1
    assert site.status()["mode"] == "external_control"  # enabling WSet hands control to the SCADA
    await site.run(5.0)
    assert site.inverter_w == pytest.approx(-2500.0)
    m701 = device.models[701][0]
    await blocking(m701.read)
    assert m701.W.cvalue == pytest.approx(-2500.0, abs=5.0)


async def test_wmaxlimpct_limits_the_site(site: ScadaSite, device: Any) -> None:
    m704 = device.models[704][0]
    await blocking(m704.read)
    m704.WSet.cvalue = 4000
    m704.WSetEna.value = 1
    await blocking(m704.write)
    m704.WMaxLimPct.cvalue = 30
    m704.WMaxLimPctEna.value = 1
    await blocking(m704.write)
    await site.run(5.0)
    assert site.inverter_w == pytest.approx(1500.0)  # 30 % of 5000 W
    assert site.status()["discharge_limit_source"] == "scada"
    await blocking(m704.read)
    assert m704.WMaxLimPct.cvalue == 30
    m704.WMaxLimPct.cvalue = 120
    with pytest.raises(Exception, match="exception"):  # ILLEGAL_VALUE: pysunspec2 raises on the response
        await blocking(m704.write)


async def test_rvrttms_reverts_the_setpoint(site: ScadaSite, device: Any) -> None:
    m704 = device.models[704][0]
    await blocking(m704.read)
    m704.WSet.cvalue = 3000
    m704.WSetRvrtTms.value = 10
    m704.WSetEnaRvrt.value = 0
    m704.WSetEna.value = 1
    await blocking(m704.write)
    await site.run(5.0)
    assert site.inverter_w == pytest.approx(3000.0)
    await blocking(m704.read)
    assert 0 < m704.WSetRvrtRem.value <= 10
    await site.run(7.0)
    assert site.inverter_w == pytest.approx(0.0)  # reverted: released, the lease lapsed
    await blocking(m704.read)
    assert m704.WSetEna.value == 0


async def test_controller_heartbeat_counts_as_the_scada_heartbeat(site: ScadaSite, device: Any) -> None:
    m715 = device.models[715][0]
    m715.ControllerHb.value = 7
    await blocking(m715.write)
    assert site.server.control.heartbeat_value == 7
    await blocking(m715.read)
    assert m715.ControllerHb.value == 7
    der_hb = m715.DERHb.value
    await site.run(2.0)
    await blocking(m715.read)
    assert m715.DERHb.value != der_hb  # the DER's own heartbeat moves


async def test_read_only_sunspec_points_refuse_writes(site: ScadaSite) -> None:
    wmaxrtg = site.server.sunspec.model_addresses[702] + 2  # type: ignore[union-attr]
    response = await site.write(wmaxrtg, 1)
    assert response.isError() and response.exception_code == 2


async def test_varset_goes_with_the_active_setpoint(site: ScadaSite, device: Any) -> None:
    m704 = device.models[704][0]
    await blocking(m704.read)
    m704.WSet.cvalue = 1000
    m704.WSetEna.value = 1
    m704.VarSet.cvalue = -600
    m704.VarSetEna.value = 1
    await blocking(m704.write)
    order = site.server.control.order
    assert order is not None and (order.power_w, order.reactive_power_var) == (1000.0, -600.0)
    m704.VarSetMod.value = 2  # VAR_AVAIL_PCT: not served
    with pytest.raises(Exception, match="exception"):
        await blocking(m704.write)
    await blocking(m704.read)
    assert m704.VarSetMod.value == 4  # the refused write left nothing behind
