"""Settings: explicit > secrets > environment > .env, auto back end, safe repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_core import ConfigError, Settings, load_settings


@pytest.fixture
def dotenv(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text('CHAT_MODEL=from-dotenv\nCHAT_OFFLINE_TPS="12.5"\n# a comment\n')
    return path


def test_each_layer_wins_over_the_ones_below(dotenv: Path) -> None:
    env = {"CHAT_MODEL": "from-env"}
    secrets = {"CHAT_MODEL": "from-secrets"}
    load = load_settings
    assert load(env={}, secrets={}, dotenv_path=dotenv).model == "from-dotenv"
    assert load(env=env, secrets={}, dotenv_path=dotenv).model == "from-env"
    assert load(env=env, secrets=secrets, dotenv_path=dotenv).model == "from-secrets"
    explicit = load(env=env, secrets=secrets, dotenv_path=dotenv, model="explicit")
    assert explicit.model == "explicit"


def test_layers_fill_different_names(dotenv: Path) -> None:
    s = load_settings(
        env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
        secrets={"OPENAI_API_KEY": "sk-secret"},
        dotenv_path=dotenv,
    )
    assert s.offline_tps == 12.5  # parsed from the .env text
    assert s.openai_base_url == "http://127.0.0.1:9/v1"
    assert s.openai_api_key == "sk-secret"
    assert s.model == "from-dotenv"


def test_empty_values_fall_through(dotenv: Path) -> None:
    s = load_settings(
        env={"CHAT_MODEL": ""}, secrets={"CHAT_MODEL": ""}, dotenv_path=dotenv, model=""
    )
    assert s.model == "from-dotenv"


def test_missing_or_skipped_dotenv(tmp_path: Path, dotenv: Path) -> None:
    assert load_settings(env={}, secrets={}, dotenv_path=tmp_path / "absent").model is None
    assert load_settings(env={}, secrets={}, dotenv_path=None).model is None


def test_defaults() -> None:
    s = load_settings(env={}, secrets={}, dotenv_path=None)
    assert (s.backend, s.offline_tps, s.resolved_backend) == ("auto", 40.0, "offline")
    assert s.resolved_model == "offline-scripted"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "offline"),
        ({"OPENAI_API_KEY": "sk-x"}, "openai"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}, "openai"),
        (
            {"CHAT_REMOTE_URL": "http://127.0.0.1:8000/api/chat/stream", "OPENAI_API_KEY": "k"},
            "remote",
        ),
        ({"CHAT_BACKEND": "offline", "OPENAI_API_KEY": "sk-x"}, "offline"),
        ({"CHAT_BACKEND": "openai"}, "openai"),
    ],
)
def test_auto_backend_resolution(env: dict[str, str], expected: str) -> None:
    assert load_settings(env=env, secrets={}, dotenv_path=None).resolved_backend == expected


def test_model_defaults_follow_the_backend() -> None:
    s = load_settings(env={"OPENAI_API_KEY": "sk-x"}, secrets={}, dotenv_path=None)
    assert s.resolved_model == "gpt-4o-mini"
    assert s.with_overrides(model="gpt-4.1").resolved_model == "gpt-4.1"


@pytest.mark.parametrize(
    "env",
    [
        {"CHAT_BACKEND": "gpt"},
        {"CHAT_OFFLINE_TPS": "fast"},
        {"CHAT_OFFLINE_TPS": "0"},
        {"CHAT_OFFLINE_TPS": "-5"},
        {"CHAT_OFFLINE_TPS": "nan"},
        {"CHAT_OFFLINE_TPS": "1e9"},
        {"CHAT_REMOTE_METHOD": "PUT"},
    ],
)
def test_bad_values_raise_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(env=env, secrets={}, dotenv_path=None)


def test_bad_explicit_values_raise_config_error() -> None:
    with pytest.raises(ConfigError):
        load_settings(env={}, secrets={}, dotenv_path=None, backend="nope")
    with pytest.raises(ConfigError):
        load_settings(env={}, secrets={}, dotenv_path=None, offline_tps="fast")


def test_unknown_explicit_name_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="colour"):
        load_settings(env={}, secrets={}, dotenv_path=None, colour="blue")


def test_repr_hides_secrets() -> None:
    s = Settings(openai_api_key="sk-very-secret", gateway_token="tok-hidden", model="m")
    text = repr(s)
    assert "sk-very-secret" not in text
    assert "tok-hidden" not in text
    assert text.count("***") == 2
    assert "model='m'" in text
    assert "openai_api_key=None" in repr(Settings())


def test_overrides_ignore_empty_values() -> None:
    s = Settings(model="base", openai_api_key="sk-a")
    o = s.with_overrides(model="", openai_api_key=None, openai_base_url="http://127.0.0.1:1/v1")
    assert (o.model, o.openai_api_key, o.openai_base_url) == (
        "base",
        "sk-a",
        "http://127.0.0.1:1/v1",
    )
    with pytest.raises(ConfigError):
        s.with_overrides(backend="bogus")


def test_database_url_from_chat_db_url_else_chat_db_path() -> None:
    load = load_settings
    assert load(env={}, secrets={}, dotenv_path=None).database_url == (
        "sqlite:///.chat_data/chats.sqlite3"
    )
    assert load(env={"CHAT_DB_PATH": "/data/c.db"}, dotenv_path=None, secrets={}).database_url == (
        "sqlite:////data/c.db"
    )
    pg = "postgresql+psycopg://app:pw@db.example.com/chats"
    both = {"CHAT_DB_PATH": "/data/c.db", "CHAT_DB_URL": pg}
    assert load(env=both, secrets={}, dotenv_path=None).database_url == pg
    assert load(env={}, secrets={"CHAT_DB_URL": pg}, dotenv_path=None).db_url == pg
    shown = repr(Settings(db_url=pg))
    assert "pw" not in shown and "app:***@db.example.com" in shown


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("0", False), ("no", False)]
)
def test_shared_history_is_a_flag(raw: str, expected: bool) -> None:
    env = {"CHAT_SHARED_HISTORY": raw}
    assert load_settings(env=env, secrets={}, dotenv_path=None).shared_history is expected
    assert load_settings(env={}, secrets={}, dotenv_path=None).shared_history is False


def test_shared_history_refuses_other_words() -> None:
    with pytest.raises(ConfigError, match="CHAT_SHARED_HISTORY"):
        load_settings(env={"CHAT_SHARED_HISTORY": "maybe"}, secrets={}, dotenv_path=None)


@pytest.mark.parametrize(
    ("settings", "api"),
    [
        ({"openai_api_key": "sk-x"}, "responses"),  # auto: OpenAI's own endpoint
        ({"openai_base_url": "http://127.0.0.1:11434/v1"}, "chat"),  # auto: anything else
        ({"openai_api_key": "sk-x", "openai_api": "chat"}, "chat"),
        ({"openai_base_url": "http://127.0.0.1:8100/v1", "openai_api": "responses"}, "responses"),
    ],
)
def test_openai_api_picks_responses_or_chat(settings: dict[str, str], api: str) -> None:
    from chat_core import make_backend
    from chat_core.backends.openai import OpenAIBackend

    backend = make_backend(Settings(**settings))  # type: ignore[arg-type]
    assert isinstance(backend, OpenAIBackend) and backend.api == api


def test_openai_api_comes_from_the_environment_and_is_checked() -> None:
    s = load_settings(env={"CHAT_OPENAI_API": "chat"}, secrets={}, dotenv_path=None)
    assert s.openai_api == "chat"
    with pytest.raises(ConfigError, match="CHAT_OPENAI_API"):
        Settings(openai_api="completions")


def test_first_byte_timeout_and_owner_prices_are_read_and_checked() -> None:
    from chat_core.errors import ConfigError
    from chat_core.settings import OwnerPrice, load_settings

    read = load_settings(
        env={"CHAT_FIRST_BYTE_TIMEOUT_S": "12", "CHAT_PRICES": "a=1/2; b:7b=0/0"},
        dotenv_path=None,
        secrets={},
    )
    assert read.first_byte_timeout_s == 12.0
    assert read.prices == (OwnerPrice("a", 1.0, 2.0), OwnerPrice("b:7b", 0.0, 0.0))
    assert load_settings(env={}, dotenv_path=None, secrets={}).first_byte_timeout_s == 30.0
    for name, bad in (("CHAT_FIRST_BYTE_TIMEOUT_S", "0"), ("CHAT_PRICES", "a=free")):
        with pytest.raises(ConfigError, match=name):
            load_settings(env={name: bad}, dotenv_path=None, secrets={})
