"""Binding files: which DBC signal fills which BMS reading field, per rack, with the device's sign.

A binding is JSON next to its DBC (`dbc/<type>.binding.json`). Loading checks every message and
signal against the DBC, so a typo fails at start-up with the file and the name, never at run time.
Sign and unit conversion happens here, at the edge: after `SignalRef.convert` a current is
positive = discharge and a limit is a magnitude.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cantools
from cantools.database.can import Database, Message

# Numeric fields a binding may fill (the controller's RackSample fields).
FIELDS = frozenset(
    {
        "voltage_v",
        "current_a",
        "soc_pct",
        "soh_pct",
        "cell_voltage_min_v",
        "cell_voltage_max_v",
        "cell_voltage_avg_v",
        "cell_voltage_min_index",
        "cell_voltage_max_index",
        "cell_temp_min_c",
        "cell_temp_max_c",
        "cell_temp_min_index",
        "cell_temp_max_index",
        "charge_current_limit_a",
        "discharge_current_limit_a",
        "charge_voltage_limit_v",
        "discharge_voltage_limit_v",
        "charge_enabled",
        "discharge_enabled",
        "balancing",
        "capacity_ah",
        "state",
    }
)
# A rack counts as online only with these present and fresh.
REQUIRED_FIELDS = ("voltage_v", "current_a", "soc_pct")
TRANSFORMS = frozenset({"none", "negate", "abs", "non_negative"})


class BindingError(ValueError):
    """A binding file that does not match its DBC or the schema."""


@dataclass(frozen=True, slots=True)
class SignalRef:
    message: str
    signal: str
    transform: str = "none"
    valid_min: float | None = None
    valid_max: float | None = None

    def convert(self, raw: float) -> float | None:
        """Device value -> our sign/unit; None when outside the declared valid range (n/a sentinel)."""
        if (self.valid_min is not None and raw < self.valid_min) or (
            self.valid_max is not None and raw > self.valid_max
        ):
            return None
        if self.transform == "negate":
            return -raw
        if self.transform == "abs":
            return abs(raw)
        if self.transform == "non_negative":
            # A negative charge limit is nonsense; treating it as "no charge" is the safe reading.
            return max(raw, 0.0)
        return raw

    def to_device(self, value: float) -> float:
        """Inverse of convert for the emulator (abs/non_negative encode the magnitude)."""
        return -value if self.transform == "negate" else value


@dataclass(frozen=True, slots=True)
class FlagRef:
    message: str
    signal: str
    active: frozenset[int]


@dataclass(frozen=True, slots=True)
class CellRef:
    message: str
    pattern: str  # e.g. "Cell{:03d}_V", 1-based
    count: int
    mux_of: Mapping[str, int | None]  # signal -> multiplexer value of the frame that carries it

    def signal(self, index: int) -> str:
        return self.pattern.format(index + 1)


@dataclass(frozen=True, slots=True)
class RackIdLayout:
    shift: int
    bits: int

    @property
    def mask(self) -> int:
        return ((1 << self.bits) - 1) << self.shift

    def rack_of(self, frame_id: int) -> int:
        return (frame_id & self.mask) >> self.shift


@dataclass(frozen=True, slots=True)
class BalanceCommandRef:
    message: str
    enable: str
    target_v: str
    duration_min: str


@dataclass(frozen=True, slots=True)
class Binding:
    protocol: str
    db: Database
    rack_layout: RackIdLayout | None
    presence: str
    fields: Mapping[str, tuple[SignalRef, ...]]
    protections: Mapping[str, tuple[FlagRef, ...]]
    alarms: Mapping[str, tuple[FlagRef, ...]]
    cell_voltages: CellRef | None
    cell_temps: CellRef | None
    min_dlc: Mapping[str, int]  # messages a BMS may legally send shorter than the DBC length
    balance_command: BalanceCommandRef | None

    def message(self, name: str) -> Message:
        return self.db.get_message_by_name(name)

    def frame_id(self, message: str, rack_id: int) -> int:
        """The frame id a rack sends `message` with (the DBC declares rack 0)."""
        base = self.message(message).frame_id
        if self.rack_layout is None:
            return base
        if rack_id >> self.rack_layout.bits:
            raise BindingError(
                f"{self.protocol}: rack id {rack_id} does not fit {self.rack_layout.bits} bits"
            )
        return base | (rack_id << self.rack_layout.shift)

    def received_messages(self) -> list[Message]:
        """Messages the BMS sends (what the bus controller decodes)."""
        sent = {self.balance_command.message} if self.balance_command else set()
        return [m for m in self.db.messages if m.name not in sent]


def default_dbc_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "dbc"


def load_binding(bms_type: str, dbc_dir: Path | None = None, dbc_file: Path | None = None) -> Binding:
    """`dbc_file` replaces the DBC the binding names (same signals, a newer revision)."""
    directory = dbc_dir or default_dbc_dir()
    path = directory / f"{bms_type}.binding.json"
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BindingError(f"{path}: cannot read binding: {exc}") from exc
    try:
        db = cantools.database.load_file(dbc_file or directory / spec["dbc"], strict=True)
        return _build(spec, db)
    except BindingError as exc:
        raise BindingError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, OSError, cantools.database.Error) as exc:
        raise BindingError(f"{path}: invalid binding: {exc!r}") from exc


def _build(spec: dict[str, object], db: Database) -> Binding:
    def check(message: str, signal: str | None = None) -> None:
        try:
            msg = db.get_message_by_name(message)
        except KeyError:
            raise BindingError(f"message {message!r} is not in the DBC") from None
        if signal is not None and signal not in {s.name for s in msg.signals}:
            raise BindingError(f"signal {message}.{signal} is not in the DBC")

    def signal_ref(item: dict[str, object]) -> SignalRef:
        ref = SignalRef(
            str(item["message"]),
            str(item["signal"]),
            str(item.get("transform", "none")),
            _opt_float(item.get("valid_min")),
            _opt_float(item.get("valid_max")),
        )
        if ref.transform not in TRANSFORMS:
            raise BindingError(f"unknown transform {ref.transform!r}")
        check(ref.message, ref.signal)
        return ref

    def flag_refs(section: object) -> dict[str, tuple[FlagRef, ...]]:
        out: dict[str, tuple[FlagRef, ...]] = {}
        for name, items in dict(section or {}).items():  # type: ignore[call-overload]
            refs = tuple(
                FlagRef(str(i["message"]), str(i["signal"]), frozenset(i.get("active", [1]))) for i in items
            )
            for ref in refs:
                check(ref.message, ref.signal)
            out[str(name)] = refs
        return out

    def cell_ref(item: object) -> CellRef | None:
        if item is None:
            return None
        data = dict(item)  # type: ignore[call-overload]
        message, pattern, count = str(data["message"]), str(data["pattern"]), int(data["count"])
        names = [pattern.format(k + 1) for k in range(count)]
        for name in names:
            check(message, name)
        signals = {s.name: s for s in db.get_message_by_name(message).signals}
        mux_of = {n: (signals[n].multiplexer_ids or [None])[0] for n in names}
        return CellRef(message, pattern, count, mux_of)

    fields: dict[str, tuple[SignalRef, ...]] = {}
    for name, items in dict(spec["fields"]).items():  # type: ignore[call-overload]
        if name not in FIELDS:
            raise BindingError(f"unknown field {name!r}")
        fields[name] = tuple(signal_ref(i) for i in (items if isinstance(items, list) else [items]))
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        raise BindingError(f"required fields missing: {missing}")

    layout = spec.get("rack_id")
    rack_layout = None if layout is None else RackIdLayout(int(layout["shift"]), int(layout["bits"]))  # type: ignore[index]
    presence = str(spec["presence"])
    check(presence)
    min_dlc = {str(m): int(n) for m, n in dict(spec.get("min_dlc", {})).items()}  # type: ignore[call-overload]
    for m in min_dlc:
        check(m)
    balance = spec.get("balance_command")
    balance_ref = None
    if balance is not None:
        b = dict(balance)  # type: ignore[call-overload]
        balance_ref = BalanceCommandRef(
            str(b["message"]), str(b["enable"]), str(b["target_v"]), str(b["duration_min"])
        )
        for sig in (balance_ref.enable, balance_ref.target_v, balance_ref.duration_min):
            check(balance_ref.message, sig)
    return Binding(
        protocol=str(spec["protocol"]),
        db=db,
        rack_layout=rack_layout,
        presence=presence,
        fields=fields,
        protections=flag_refs(spec.get("protections")),
        alarms=flag_refs(spec.get("alarms")),
        cell_voltages=cell_ref(spec.get("cell_voltages")),
        cell_temps=cell_ref(spec.get("cell_temps")),
        min_dlc=min_dlc,
        balance_command=balance_ref,
    )


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
