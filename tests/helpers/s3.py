"""moto's standalone S3 server for the tests: the S3 store is tested over real HTTP.

The server runs as its own process (``python -m moto.server``) on a free loopback port,
one per test session. Every test that uses it gets a bucket of its own and fake
credentials in its environment only, and never reads ``~/.aws``.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from config.settings import Settings
from reporting_portal.storage.blobstore import open_blob_store

REGION = "us-east-1"
PREFIX = "blobs/"
# What boto3 reads, and what must not leak in from the machine running the tests.
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_CLEARED_AWS_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                          "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE")
_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's S3 server for the duration; yields its endpoint URL."""
    port = _free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**environment, **FAKE_AWS_ENVIRONMENT},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_answering(process, endpoint_url)
        yield endpoint_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(process: subprocess.Popen[bytes], endpoint_url: str) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto's server exited with {process.returncode} at start")
        try:
            # S310: the URL is the loopback http address built above, never a file: URL.
            with urllib.request.urlopen(f"{endpoint_url}/moto-api/", timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail("moto's server did not answer in time")


def use_fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _CLEARED_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@functools.cache
def s3_client(endpoint_url: str) -> Any:
    """A plain client of the tests' own, to look at a bucket behind the store's back (one
    per server: a boto3 client costs half a second to build; moto checks no signature)."""
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=REGION)


@dataclass(frozen=True)
class Bucket:
    """A fresh bucket on the moto server, and the settings that point a store at it."""

    endpoint_url: str
    name: str

    def settings_for(self, settings: Settings) -> Settings:
        return settings.replace(blob_store="s3", s3_endpoint_url=self.endpoint_url,
                                s3_bucket=self.name, s3_region=REGION, s3_prefix=PREFIX)

    def keys(self) -> list[str]:
        listed = s3_client(self.endpoint_url).list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def multipart_uploads(self) -> list[dict[str, Any]]:
        listed = s3_client(self.endpoint_url).list_multipart_uploads(Bucket=self.name)
        uploads: list[dict[str, Any]] = listed.get("Uploads", [])
        return uploads


def new_bucket(endpoint_url: str) -> Bucket:
    name = f"test-{secrets.token_hex(8)}"
    s3_client(endpoint_url).create_bucket(Bucket=name)
    return Bucket(endpoint_url, name)


@dataclass(frozen=True, order=True)
class StoredBlob:
    """A blob in an S3 bucket, as ``blob_files`` lists it: its key, and its bytes."""

    key: str
    read: Callable[[], bytes] = field(compare=False, repr=False)

    def read_bytes(self) -> bytes:
        return self.read()


def stored_in_bucket(settings: Settings) -> list[StoredBlob | str]:
    """Everything an S3 store holds: committed blobs and unfinished multipart uploads."""
    store = open_blob_store(settings)

    def reader(name: str) -> Callable[[], bytes]:
        def read() -> bytes:
            with store.open(name) as blob:
                return blob.read()
        return read

    held: list[StoredBlob | str] = [StoredBlob(name, reader(name)) for name in store.names()]
    held += [f"unfinished upload {upload.key}" for upload in store.unfinished_uploads()]
    return sorted(held, key=str)
