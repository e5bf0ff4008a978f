"""A private Mosquitto broker shaped like IoT Hub's MQTT endpoint (dev and test tool).

The device SDK hard-codes ports 8883 (MQTT/TLS) and 443 (websockets/TLS), so instead of free
ports each broker gets its own free loopback ADDRESS (127.x.y.z) and a server certificate for
that IP; several brokers (tests, `simulate --cloud local`) can run side by side. Persistence is
on because the SDK never re-subscribes after a reconnect and relies on the broker's session.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MQTT_TLS_PORT = 8883
WEBSOCKETS_TLS_PORT = 443


class BrokerError(RuntimeError):
    pass


def _can_bind(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_loopback_address(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    for _ in range(200):
        host = f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if _can_bind(host, MQTT_TLS_PORT) and _can_bind(host, WEBSOCKETS_TLS_PORT):
            return host
    raise BrokerError("no free loopback address with ports 8883 and 443 bindable")


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def make_certificates(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for `host` (IP SAN + localhost): (ca, cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sitecontroller test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    _write_key(directory / "ca.key", ca_key)  # kept to issue device certificates (X.509 authentication)
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths[2].chmod(0o600)
    return paths


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def issue_device_certificate(certs_dir: Path, device_id: str) -> tuple[Path, Path]:
    """A client certificate (CN = device id) from the broker's CA, as IoT Hub's X.509 CA auth uses."""
    ca_key = serialization.load_pem_private_key((certs_dir / "ca.key").read_bytes(), password=None)
    ca = x509.load_pem_x509_certificate((certs_dir / "ca.pem").read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = certs_dir / f"{device_id}.pem", certs_dir / f"{device_id}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return cert_path, key_path


@dataclass
class Broker:
    work_dir: Path
    host: str = ""
    plain_port: int = 0
    ca_file: Path | None = None
    # IoT Hub with X.509 device authentication: the TLS listeners demand a client certificate.
    require_client_cert: bool = False
    _process: subprocess.Popen[bytes] | None = None

    def prepare(self) -> None:
        if shutil.which("mosquitto") is None:
            raise BrokerError("mosquitto is not installed (apt-get install -y mosquitto)")
        self.host = self.host or pick_loopback_address()
        self.plain_port = self.plain_port or free_port(self.host)
        ca, cert, key = make_certificates(self.work_dir / "certs", self.host)
        self.ca_file = ca
        (self.work_dir / "data").mkdir(parents=True, exist_ok=True)
        tls = f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        if self.require_client_cert:
            tls += "require_certificate true\n"
        (self.work_dir / "mosquitto.conf").write_text(
            "per_listener_settings false\nuser root\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.work_dir / 'data'}/\n"
            f"log_dest file {self.work_dir / 'mosquitto.log'}\n"
            "connection_messages true\nmax_queued_messages 100000\n"
            f"listener {MQTT_TLS_PORT} {self.host}\nprotocol mqtt\n{tls}"
            f"listener {WEBSOCKETS_TLS_PORT} {self.host}\nsocket_domain ipv4\nprotocol websockets\n{tls}"
            f"listener {self.plain_port} {self.host}\nprotocol mqtt\n"
        )

    def start(self, timeout_s: float = 10.0) -> None:
        if not self.host:
            self.prepare()
        self._process = subprocess.Popen(
            ["mosquitto", "-c", str(self.work_dir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise BrokerError(f"mosquitto exited: {err.strip()}")
            try:
                socket.create_connection((self.host, self.plain_port), timeout=0.2).close()
                socket.create_connection((self.host, MQTT_TLS_PORT), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise BrokerError("mosquitto did not start listening")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
