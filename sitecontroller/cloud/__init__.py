"""The cloud link: Azure IoT Hub telemetry, twin, direct methods, Blob storage and OTA artifacts.

Nothing on site depends on this package: the control loops never wait on it, and with the cloud
gone the node runs on its cached parameters. See docs/cloud.md.
"""
