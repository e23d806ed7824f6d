from datetime import UTC, datetime, timedelta

import pytest

from chat_core.storage.share_tokens import (
    EXPIRY_CHOICES,
    expires_at,
    hash_token,
    is_live,
    new_token,
    sharing_mode,
    well_formed,
)

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_tokens_are_long_random_and_well_formed() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert well_formed(token)
        assert len(token) * 6 >= 128


@pytest.mark.parametrize("bad", ["", "abc", "x" * 42, "x" * 44, "!" * 43, "é" * 43, "\x00" * 43])
def test_malformed_tokens_are_refused_but_still_hash(bad: str) -> None:
    assert not well_formed(bad)
    assert len(hash_token(bad)) == 64


def test_hash_is_sha256_and_not_the_token() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert token not in hash_token(token)
    assert hash_token(token) != hash_token(token[:-1])


def test_expiry_choices_default_first_and_never() -> None:
    assert next(iter(EXPIRY_CHOICES)) == "7 days"
    assert expires_at(NOW, "7 days") == NOW + timedelta(days=7)
    assert expires_at(NOW, "1 day") == NOW + timedelta(days=1)
    assert expires_at(NOW, "30 days") == NOW + timedelta(days=30)
    assert expires_at(NOW, "Never") is None
    with pytest.raises(ValueError, match="unknown expiry"):
        expires_at(NOW, "forever")


def test_liveness_with_a_moved_clock() -> None:
    end = expires_at(NOW, "1 day")
    assert is_live(NOW, end, revoked=False)
    assert not is_live(NOW + timedelta(days=1), end, revoked=False)
    assert not is_live(NOW, end, revoked=True)
    assert is_live(NOW + timedelta(days=3650), None, revoked=False)


def test_sharing_mode() -> None:
    assert sharing_mode(None) == "on"
    assert sharing_mode(" LOGIN ") == "login"
    assert sharing_mode("off") == "off"
    with pytest.raises(ValueError, match="CHAT_SHARING"):
        sharing_mode("maybe")
