"""Where and how to connect: configuration plus the environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sitecontroller.config.cloud import CloudConfig

ENV_CONNECTION_STRING = "SITECONTROLLER_IOTHUB_CONNECTION_STRING"
ENV_CA_FILE = "SITECONTROLLER_IOTHUB_CA_FILE"


class CloudSettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Endpoint:
    connection_string: str
    server_ca_pem: str | None
    websockets: bool
    x509_cert_file: str
    x509_key_file: str
    x509_hostname: str
    x509_device_id: str

    @property
    def device_id(self) -> str:
        if self.connection_string:
            return parse_connection_string(self.connection_string).get("DeviceId", "")
        return self.x509_device_id


def parse_connection_string(cs: str) -> dict[str, str]:
    parts = {}
    for item in cs.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise CloudSettingsError(f"connection string item {key!r} has no '='")
        parts[key] = value
    return parts


def resolve_endpoint(config: CloudConfig, env: Mapping[str, str] | None = None) -> Endpoint:
    """The endpoint in force; raises CloudSettingsError with a clear reason if unusable."""
    env = os.environ if env is None else env
    cs = env.get(ENV_CONNECTION_STRING) or config.connection_string
    ca_file = env.get(ENV_CA_FILE) or config.server_ca_file
    ca_pem = None
    if ca_file:
        try:
            ca_pem = Path(ca_file).read_text()
        except OSError as exc:
            raise CloudSettingsError(f"server CA file {ca_file}: {exc}") from exc
    if cs:
        parts = parse_connection_string(cs)
        missing = [k for k in ("HostName", "DeviceId") if not parts.get(k)]
        if missing:
            raise CloudSettingsError(f"connection string lacks {', '.join(missing)}")
        if "SharedAccessKey" not in parts and not config.x509_cert_file:
            raise CloudSettingsError("connection string has no SharedAccessKey and no X.509 cert is set")
    elif not (
        config.x509_cert_file and config.x509_key_file and config.x509_hostname and config.x509_device_id
    ):
        raise CloudSettingsError(
            f"no IoT Hub identity: set cloud.connection_string (or {ENV_CONNECTION_STRING}) "
            "or all of cloud.x509_cert_file/x509_key_file/x509_hostname/x509_device_id"
        )
    return Endpoint(
        cs,
        ca_pem,
        config.websockets,
        config.x509_cert_file,
        config.x509_key_file,
        config.x509_hostname,
        config.x509_device_id,
    )
