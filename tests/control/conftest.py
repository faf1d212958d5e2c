"""Fixtures for the control plane's tests: the gateway with the cloud chain only (no sLM: Gemini, then Hugging
Face), and AWS behind the fault injector for the tests that run instances in other processes."""

from __future__ import annotations

import pytest

from tests.conftest import Gateway
from tests.observability.conftest import captured  # noqa: F401 - fixtures shared with these tests
from tests.resilience.conftest import faulty_aws, faulty_gateway  # noqa: F401


@pytest.fixture
def cloud(gateway: Gateway, clean_env: pytest.MonkeyPatch) -> Gateway:
    """The gateway with SLM_MODE=local: every route goes to the cloud chain, so the answering provider shows the
    routing configuration in force."""
    from gateway.config.settings import get_settings

    clean_env.setenv("SLM_MODE", "local")
    clean_env.setenv("CONFIG_MAX_AGE_SECONDS", "0")  # each request reads the version in force (one process)
    get_settings.cache_clear()
    return gateway
