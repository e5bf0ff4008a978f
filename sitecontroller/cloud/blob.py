"""Blob transfers (azure-storage-blob, blocking client run in a worker thread by the caller).

URLs are SAS URLs: from a method payload, or built from IoT Hub's file-upload storage info.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from azure.storage.blob import BlobClient

CHUNK_BYTES = 4 * 1024 * 1024


class TransferError(RuntimeError):
    pass


def download_to(url: str, target: Path, max_bytes: int, progress: Callable[[int, int], None]) -> str:
    """Download into `target`; returns the SHA-256 hex. Refuses blobs larger than `max_bytes`."""
    try:
        client = BlobClient.from_blob_url(url, max_chunk_get_size=CHUNK_BYTES)
        downloader = client.download_blob()
        total = downloader.size
        if total > max_bytes:
            raise TransferError(f"blob is {total} bytes, more than the {max_bytes} allowed")
        digest = hashlib.sha256()
        done = 0
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            for chunk in downloader.chunks():
                done += len(chunk)
                if done > max_bytes:
                    raise TransferError(f"blob grew past the {max_bytes} bytes allowed")
                digest.update(chunk)
                out.write(chunk)
                progress(done, total)
        return digest.hexdigest()
    except TransferError:
        raise
    except Exception as exc:  # azure-core errors, socket errors: one type for the caller
        raise TransferError(f"download failed: {type(exc).__name__}: {exc}") from exc


def upload_file(url: str, path: Path) -> int:
    """Upload one file as a block blob (chunked); returns its size."""
    try:
        client = BlobClient.from_blob_url(url, max_single_put_size=CHUNK_BYTES, max_block_size=CHUNK_BYTES)
        with path.open("rb") as data:
            client.upload_blob(data, overwrite=True)
        return path.stat().st_size
    except Exception as exc:
        raise TransferError(f"upload of {path.name} failed: {type(exc).__name__}: {exc}") from exc


def url_from_storage_info(info: dict[str, str]) -> str:
    """IoT Hub file-upload flow: storage info -> SAS URL of the blob."""
    return f"https://{info['hostName']}/{info['containerName']}/{quote(info['blobName'])}{info['sasToken']}"


def with_blob_name(container_sas_url: str, blob_name: str) -> str:
    """A container SAS URL plus a blob name -> that blob's SAS URL."""
    base, _, query = container_sas_url.partition("?")
    return f"{base.rstrip('/')}/{quote(blob_name)}?{query}"
