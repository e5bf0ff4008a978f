"""One IoT Hub device connection (azure-iot-device v2, asyncio API) behind timeouts.

The SDK's own reconnect is off: the supervisor owns reconnection (jittered backoff) and creates
a fresh client per attempt, which also recovers from the SDK's token-renewal and stuck-reconnect
bugs. SDK callbacks run on SDK threads; they only hand their argument to our loop through
`call_soon_threadsafe` into asyncio queues.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.iot.device import X509, Message, MethodResponse
from azure.iot.device.aio import IoTHubDeviceClient

from sitecontroller.cloud.settings import Endpoint

log = logging.getLogger(__name__)
T = TypeVar("T")


class HubLinkError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class MethodCall:
    name: str
    request_id: str
    payload: object


class HubLink:
    def __init__(self, endpoint: Endpoint, keep_alive_s: int, call_timeout_s: float) -> None:
        self._endpoint = endpoint
        self._timeout_s = call_timeout_s
        self._loop = asyncio.get_running_loop()
        self.methods: asyncio.Queue[MethodCall] = asyncio.Queue()
        self.desired_patches: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.disconnected = asyncio.Event()
        kwargs: dict[str, Any] = {
            "websockets": endpoint.websockets,
            "keep_alive": keep_alive_s,
            "connection_retry": False,
            "auto_connect": False,
        }
        if endpoint.server_ca_pem:
            kwargs["server_verification_cert"] = endpoint.server_ca_pem
        if endpoint.connection_string and "SharedAccessKey=" in endpoint.connection_string:
            self._client = IoTHubDeviceClient.create_from_connection_string(
                endpoint.connection_string, **kwargs
            )
        else:
            x509 = X509(cert_file=endpoint.x509_cert_file, key_file=endpoint.x509_key_file)
            self._client = IoTHubDeviceClient.create_from_x509_certificate(
                x509, hostname=endpoint.x509_hostname, device_id=endpoint.x509_device_id, **kwargs
            )
        self._client.on_connection_state_change = self._on_connection_state

    # --- SDK threads -> our loop ------------------------------------------------------------
    def _on_method(self, request: Any) -> None:
        call = MethodCall(request.name, request.request_id, request.payload)
        self._loop.call_soon_threadsafe(self.methods.put_nowait, call)

    def _on_desired(self, patch: dict[str, Any]) -> None:
        self._loop.call_soon_threadsafe(self.desired_patches.put_nowait, patch)

    def _on_connection_state(self) -> None:
        if not self._client.connected:
            self._loop.call_soon_threadsafe(self.disconnected.set)

    # --- calls, each with a timeout ----------------------------------------------------------
    async def _call(self, what: str, awaitable: Awaitable[T]) -> T:
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that arrives
        # as the call completes, leaving a session task that never ends.
        try:
            async with asyncio.timeout(self._timeout_s):
                return await awaitable
        except TimeoutError as exc:
            raise HubLinkError(f"{what} timed out after {self._timeout_s} s") from exc
        except Exception as exc:  # the SDK raises its own hierarchy; callers see one type
            raise HubLinkError(f"{what} failed: {type(exc).__name__}: {exc}") from exc

    async def connect(self) -> None:
        await self._call("connect", self._client.connect())
        # Setting these subscribes, and the SDK's setter blocks until the broker answers (even in
        # the async client), so it runs on a worker thread; without auto_connect it needs a link.
        await self._call("subscribe", asyncio.to_thread(self._set_handlers))

    def _set_handlers(self) -> None:
        self._client.on_method_request_received = self._on_method
        self._client.on_twin_desired_properties_patch_received = self._on_desired

    async def send(
        self, body: bytes, message_id: str, content_encoding: str, properties: dict[str, str]
    ) -> None:
        msg = Message(
            body, message_id=message_id, content_encoding=content_encoding, content_type="application/json"
        )
        msg.custom_properties.update(properties)
        await self._call("send_message", self._client.send_message(msg))

    async def get_twin(self) -> dict[str, Any]:
        return await self._call("get_twin", self._client.get_twin())

    async def patch_reported(self, patch: dict[str, Any]) -> None:
        await self._call("patch_twin_reported_properties", self._client.patch_twin_reported_properties(patch))

    async def respond(self, call: MethodCall, status: int, payload: object) -> None:
        # Keep responses JSON-clean (the SDK json-dumps them; reject what cannot be encoded here).
        json.dumps(payload)
        response = MethodResponse(call.request_id, status, payload)
        await self._call("send_method_response", self._client.send_method_response(response))

    async def storage_info(self, blob_name: str) -> dict[str, Any]:
        return await self._call(
            "get_storage_info_for_blob", self._client.get_storage_info_for_blob(blob_name)
        )

    async def notify_upload(self, correlation_id: str, ok: bool, status: int, description: str) -> None:
        await self._call(
            "notify_blob_upload_status",
            self._client.notify_blob_upload_status(correlation_id, ok, status, description),
        )

    async def shutdown(self) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.shutdown()
        except Exception as exc:  # shutting down a broken client must never raise
            log.debug("shutdown of IoT Hub client: %s", exc)
