from __future__ import annotations

import pytest

from gateway.config.settings import load_settings
from gateway.core.errors import ConfigurationError
from gateway.providers.huggingface import DEFAULT_HF_BASE_URL


def test_defaults_keep_the_replaced_systems_names() -> None:
    settings = load_settings({})
    assert settings.mode == "aws"
    assert settings.gemini_model == "gemini-2.5-flash"
    assert settings.hf_base_url == DEFAULT_HF_BASE_URL
    assert settings.slm_enabled is False


def test_empty_strings_from_template_parameters_mean_unset() -> None:
    settings = load_settings({"GEMINI_BASE_URL": "", "HF_BASE_URL": "", "SLM_ENDPOINT_URL": ""})
    assert settings.gemini_base_url is None
    assert settings.hf_base_url == DEFAULT_HF_BASE_URL


def test_the_slm_needs_http_mode_and_an_endpoint() -> None:
    assert load_settings({"SLM_MODE": "http"}).slm_enabled is False
    assert load_settings({"SLM_MODE": "http", "SLM_ENDPOINT_URL": "https://slm.example/generate"}).slm_enabled


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLM_TIMEOUT_MS": "-5"}, "SLM_TIMEOUT_MS"),
        ({"SLM_MODE": "grpc"}, "SLM_MODE"),
        ({"GEMINI_BASE_URL": "localhost:8080"}, "GEMINI_BASE_URL"),
        ({"GATEWAY_MODE": "prod"}, "GATEWAY_MODE"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load_settings(env)


def test_every_setting_is_documented() -> None:
    # Given every environment variable the settings read, and the configuration page
    from dev.lambda_runtime import REPO_ROOT
    from gateway.config.settings import ENVIRONMENT_NAMES

    page = (REPO_ROOT / "docs" / "configuration.md").read_text()
    # When the page is searched for each one
    missing = sorted(name for name in ENVIRONMENT_NAMES if f"`{name}`" not in page)
    # Then none is missing
    assert missing == []


def test_every_registered_provider_s_fields_are_part_of_the_settings() -> None:
    # Given the registry's providers, each declaring its own settings fields
    from gateway.config.settings import Settings
    from gateway.providers.registry import PROVIDERS

    # When the function's settings are checked for them
    missing = [name for name, info in PROVIDERS.items() if not issubclass(Settings, info.settings)]
    # Then each provider's fields are read with the rest
    assert missing == []
