"""Cloud link settings (section `cloud` of the site parameters). Default: cloud disabled.

Secrets may come from the environment instead of the file: SITECONTROLLER_IOTHUB_CONNECTION_STRING
and SITECONTROLLER_IOTHUB_CA_FILE override `connection_string` and `server_ca_file` (see
`sitecontroller.cloud.settings.resolve_endpoint`).
"""

from __future__ import annotations

from pydantic import Field

from sitecontroller.config.base import StrictModel


class CloudConfig(StrictModel):
    enabled: bool = False
    # "HostName=...;DeviceId=...;SharedAccessKey=..." (optionally ";GatewayHostName=...").
    connection_string: str = ""
    server_ca_file: str = ""
    # X.509 authentication (used when connection_string has no SharedAccessKey and these are set).
    x509_cert_file: str = ""
    x509_key_file: str = ""
    x509_hostname: str = ""
    x509_device_id: str = ""
    websockets: bool = False
    keep_alive_s: int = Field(default=60, ge=10, le=1740)
    sdk_call_timeout_s: float = Field(default=30.0, ge=1.0, le=300.0)
    backoff_initial_s: float = Field(default=5.0, ge=0.1, le=600.0)
    backoff_max_s: float = Field(default=600.0, ge=1.0, le=86_400.0)
    # Tokens carry wall-clock expiry: do not connect before the wall clock is believable.
    min_valid_wall_s: float = Field(default=1_704_067_200.0, ge=0.0)  # 2024-01-01
    telemetry_interval_s: float = Field(default=10.0, ge=1.0, le=3600.0)
    batch_size: int = Field(default=60, ge=1, le=5000)
    max_message_bytes: int = Field(default=240_000, ge=4096, le=262_144)
    # Drain rate cap: IoT Hub S1 allows 100 sends/s per hub shared by all devices; stay far below.
    max_sends_per_s: float = Field(default=10.0, gt=0.0, le=100.0)
    outbox_max_records: int = Field(default=70_000, ge=100, le=10_000_000)  # one week of 10 s = 60_480
    outbox_max_bytes: int = Field(default=80_000_000, ge=100_000, le=4_000_000_000)
    reported_debounce_s: float = Field(default=5.0, ge=0.0, le=3600.0)
    ota_public_key_file: str = ""  # raw 32-byte or PEM Ed25519 public key; empty = OTA refused
    allow_downgrade: bool = False
    releases_dir: str = "/opt/sitecontroller"
    health_window_s: float = Field(default=600.0, ge=10.0, le=86_400.0)
    max_artifact_bytes: int = Field(default=200_000_000, ge=1024, le=4_000_000_000)
    log_dir: str = "/var/log/sitecontroller"
