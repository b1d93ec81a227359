"""Shared fixtures: real servers started and stopped by the tests themselves."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))

from servers import CREDENTIALS, DropConditionalsProxy, MotoS3, s3_url  # noqa: E402

_bucket_ids = itertools.count()


@pytest.fixture(scope="session")
def moto():
    with MotoS3() as server:
        yield server


@pytest.fixture
def aws_env(monkeypatch):
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("ALBA_SETTLE_SECONDS", "0.2")


@pytest.fixture
def bucket(moto, aws_env):
    """A fresh bucket; yields (name, target URL)."""
    name = f"alba-test-{next(_bucket_ids)}"
    moto.client().create_bucket(Bucket=name)
    return name, s3_url(name, moto.port)


@pytest.fixture(scope="session")
def garage_like(moto):
    """A proxy in front of moto that drops conditional headers, as Garage 1.2 ignores them."""
    with DropConditionalsProxy(moto.port) as proxy:
        yield proxy


@pytest.fixture
def workspace(tmp_path):
    """What a build leaves: static files per platform and one image archive per platform."""
    from ci_env import make_workspace

    return make_workspace(tmp_path)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test that takes more than a few seconds")


@pytest.fixture
def website(moto, bucket, tmp_path):
    """The bucket behind nginx as Garage's website mode serves it; yields the host:port."""
    from servers import NginxWebsite, public_read

    name, _ = bucket
    public_read(moto.client(), name)
    with NginxWebsite(moto.port, name, tmp_path / "nginx") as site:
        yield site.host


# Registry servers (docker-registry open, htpasswd, token) and the fault-injecting proxy.
from registry_server import fault_proxy, registry_htpasswd, registry_open, registry_token  # noqa: E402,F401
