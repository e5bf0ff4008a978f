"""What the SCADA has commanded and keeps in force: setpoint leases, % limits, heartbeat and reversion.

Pure control on an injected Clock (no asyncio, no transport). Every setpoint goes to the node as a
lease through the CommandSink, so it lapses on the node's own clock even if this server dies; while
the SCADA heartbeat is alive the lease is renewed. When the heartbeat stops the configured fallback
applies (hold, local mode, or ramp to 0 W) and an alarm is raised until the heartbeat resumes.
A setpoint written with its own reversion time (SunSpec RvrtTms) is not renewed: it reverts then.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

from sitecontroller.config.scada import ScadaConfig
from sitecontroller.core.clock import Clock
from sitecontroller.runtime.commands import CommandResult, CommandSink
from sitecontroller.safety.errors import ErrorHandler
from sitecontroller.safety.limiter import PowerLimit
from sitecontroller.scada.errors import SCADA_HEARTBEAT_LOST

log = logging.getLogger(__name__)

ORIGIN = "scada"
LIMIT_SOURCE = "scada"
# While ramping to 0 W after a heartbeat loss, a new lease is granted at most this often.
RAMP_STEP_S = 1.0


@dataclass(frozen=True, slots=True)
class Rating:
    """The node's (or site's) rated powers, for % limits and the SunSpec capacity model."""

    max_charge_w: float
    max_discharge_w: float
    capacity_wh: float = 0.0

    @property
    def max_w(self) -> float:
        return max(self.max_charge_w, self.max_discharge_w)


@dataclass(frozen=True, slots=True)
class SetpointOrder:
    power_w: float
    reactive_power_var: float
    client: str
    granted_s: float
    # Own reversion (SunSpec RvrtTms): at expires_s the setpoint becomes revert_w, or is released (None).
    expires_s: float | None = None
    revert_w: float | None = None


@dataclass(frozen=True, slots=True)
class TimedLimit:
    """A % limit with an optional reversion: at expires_s it becomes revert_pct (None: no limit)."""

    pct: float
    expires_s: float | None = None
    revert_pct: float | None = None


class ScadaControl:
    def __init__(
        self,
        config: ScadaConfig,
        clock: Clock,
        commands: CommandSink,
        errors: ErrorHandler,
        rating: Rating,
    ) -> None:
        self._config = config
        self._clock = clock
        self._commands = commands
        self._errors = errors
        self.rating = rating
        self.order: SetpointOrder | None = None
        self.charge_limit_pct = 100.0
        self.discharge_limit_pct = 100.0
        self.wmax_limit: TimedLimit | None = None
        self.heartbeat_value = 0
        self._heartbeat_s: float | None = None
        self.fallback_active = False

    # ---- commands from the SCADA ----------------------------------------------------------------
    def heartbeat(self, value: int) -> None:
        """A heartbeat counts when the value changes (a stuck SCADA that repeats one value is lost)."""
        if value == self.heartbeat_value and self._heartbeat_s is not None:
            return
        self.heartbeat_value = value
        self._heartbeat_s = self._clock.monotonic()
        if self.fallback_active or self._errors.is_active(SCADA_HEARTBEAT_LOST):
            log.warning("SCADA heartbeat resumed; fallback ends, SCADA must command again")
            self.fallback_active = False
            self._errors.clear(SCADA_HEARTBEAT_LOST)

    def set_power(
        self,
        power_w: float,
        reactive_power_var: float,
        client: str,
        revert_after_s: float | None = None,
        revert_w: float | None = None,
    ) -> CommandResult:
        now_s = self._clock.monotonic()
        lease_s = revert_after_s if revert_after_s is not None else self._config.lease_s
        result = self._commands.set_external_setpoint(power_w, reactive_power_var, lease_s, ORIGIN)
        if result.ok:
            expires_s = None if revert_after_s is None else now_s + revert_after_s
            self.order = SetpointOrder(power_w, reactive_power_var, client, now_s, expires_s, revert_w)
            self.fallback_active = False
        return result

    def release(self) -> None:
        """Stop renewing: the node's lease lapses on its own and its mode decides again."""
        self.order = None

    def set_wmax_limit(self, limit: TimedLimit | None) -> None:
        self.wmax_limit = limit

    # ---- supervision ----------------------------------------------------------------------------
    def heartbeat_lost(self, now_s: float) -> bool:
        return self._heartbeat_s is not None and now_s - self._heartbeat_s > self._config.heartbeat_timeout_s

    def remaining_s(self) -> float | None:
        """Seconds until the setpoint in force reverts by its own timer (SunSpec RvrtRem)."""
        if self.order is None or self.order.expires_s is None:
            return None
        return max(0.0, self.order.expires_s - self._clock.monotonic())

    def tick(self) -> None:
        """Renew, revert, fall back; called every `supervise_s` from the server (or by a test)."""
        now_s = self._clock.monotonic()
        self._expire_limit(now_s)
        lost = self.heartbeat_lost(now_s)
        if lost and self._errors.raise_error(SCADA_HEARTBEAT_LOST):
            log.error("SCADA heartbeat lost for %.1f s", now_s - (self._heartbeat_s or now_s))
        order = self.order
        if order is None:
            return
        if order.expires_s is not None:
            if now_s >= order.expires_s:
                self._revert(order)
            return
        if lost:
            self._fall_back(order, now_s)
        elif now_s - order.granted_s >= self._config.lease_s / 2:
            if self._heartbeat_s is None:
                # Never armed: the lease is not renewed and lapses on the node now.
                if now_s - order.granted_s >= self._config.lease_s:
                    self.order = None
            else:
                self._grant(order.power_w, order.reactive_power_var, now_s)

    def _revert(self, order: SetpointOrder) -> None:
        if order.revert_w is None:
            log.warning("SCADA setpoint reversion timer expired: setpoint released")
            self.order = None
            return
        log.warning("SCADA setpoint reversion timer expired: reverting to %.0f W", order.revert_w)
        self.order = None
        self.set_power(order.revert_w, 0.0, "reversion")

    def _fall_back(self, order: SetpointOrder, now_s: float) -> None:
        fallback = self._config.fallback
        if not self.fallback_active:
            log.error("SCADA heartbeat lost: fallback %s from %.0f W", fallback, order.power_w)
            self.fallback_active = True
            if fallback == "ramp_to_zero":
                # the ramp starts now; the lease in force lasts at least lease_s / 2 more
                self.order = replace(order, granted_s=now_s)
                return
            if fallback == "local":
                self.order = None
                result = self._commands.request_mode(self._config.fallback_mode.value, "fallback")
                if not result.ok:
                    log.error("fallback to %s refused: %s", self._config.fallback_mode, result.message)
                return
        if fallback == "hold":
            if now_s - order.granted_s >= self._config.lease_s / 2:
                self._grant(order.power_w, order.reactive_power_var, now_s)
        elif fallback == "ramp_to_zero" and now_s - order.granted_s >= RAMP_STEP_S:
            step_w = self._config.fallback_ramp_w_per_s * (now_s - order.granted_s)
            power_w = math.copysign(max(0.0, abs(order.power_w) - step_w), order.power_w)
            if power_w != order.power_w or now_s - order.granted_s >= self._config.lease_s / 2:
                self._grant(power_w, 0.0, now_s)

    def _grant(self, power_w: float, reactive_power_var: float, now_s: float) -> None:
        order = self.order
        assert order is not None  # callers hold an order
        result = self._commands.set_external_setpoint(
            power_w, reactive_power_var, self._config.lease_s, ORIGIN
        )
        if not result.ok:
            # e.g. the mode was changed locally: the SCADA order ends, the node's mode decides
            log.warning("SCADA setpoint renewal refused (%s); order dropped", result.message)
            self.order = None
            return
        self.order = replace(order, power_w=power_w, reactive_power_var=reactive_power_var, granted_s=now_s)

    def _expire_limit(self, now_s: float) -> None:
        limit = self.wmax_limit
        if limit is None or limit.expires_s is None or now_s < limit.expires_s:
            return
        log.warning("SCADA power limit reversion timer expired")
        self.wmax_limit = None if limit.revert_pct is None else TimedLimit(limit.revert_pct)

    # ---- the limit source the node's ChargeLimiter combines (the fast loop calls this) -----------
    def power_limits(self, snapshot: object, now_s: float) -> list[PowerLimit]:
        """`ExtraLimits`-shaped: the SCADA's % limits as one more source of the safety chain."""
        charge_w = self.rating.max_charge_w * self.charge_limit_pct / 100.0
        discharge_w = self.rating.max_discharge_w * self.discharge_limit_pct / 100.0
        if self.wmax_limit is not None:
            cap_w = self.rating.max_w * self.wmax_limit.pct / 100.0
            charge_w, discharge_w = min(charge_w, cap_w), min(discharge_w, cap_w)
        if charge_w >= self.rating.max_charge_w and discharge_w >= self.rating.max_discharge_w:
            return []
        return [PowerLimit(LIMIT_SOURCE, charge_w, discharge_w)]
