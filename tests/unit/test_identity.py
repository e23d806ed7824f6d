"""Whose chats: the logged-in user, else the browser's token; shared history on purpose."""

import pytest

from chat_core import SHARED_OWNER, browser_token, choose_identity, new_browser_token
from chat_core.chat.identity import user_identity, user_label
from chat_core.storage.records import MAX_OWNER_CHARS

GOOGLE = {"is_logged_in": True, "iss": "https://accounts.google.com", "sub": "1234"}


def test_new_tokens_are_well_formed_and_never_repeat():
    tokens = {new_browser_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(browser_token(t) == t and len(t) == 32 for t in tokens)


@pytest.mark.parametrize(
    "cookie",
    [None, "", "short", "x" * 31, "x" * 33, "a" * 31 + "=", "a" * 31 + " ", 12345, b"a" * 32],
)
def test_a_damaged_or_forged_cookie_is_not_an_identity(cookie):
    assert browser_token(cookie) is None


def test_a_browser_without_login_is_its_token():
    token = new_browser_token()
    identity = choose_identity(user={}, browser=token)
    assert identity.owner == identity.person == f"browser:{token}"
    assert identity.kind == "browser" and identity.label is None


def test_two_browsers_are_two_owners():
    one = choose_identity(user={}, browser=new_browser_token())
    two = choose_identity(user={}, browser=new_browser_token())
    assert one.owner != two.owner


def test_the_logged_in_user_wins_over_the_browser():
    user = GOOGLE | {"name": "Ada Lovelace", "email": "ada@example.com"}
    here = choose_identity(user=user, browser=new_browser_token())
    elsewhere = choose_identity(user=user, browser=new_browser_token())
    assert here.owner == elsewhere.owner == "user:https://accounts.google.com|1234"
    assert here.kind == "user" and here.label == "Ada Lovelace"


def test_the_same_subject_at_another_provider_is_another_user():
    other = GOOGLE | {"iss": "https://login.microsoftonline.com/x/v2.0"}
    assert user_identity(GOOGLE) != user_identity(other)


def test_a_user_that_is_not_logged_in_is_nobody():
    # AppTest's default st.user, and st.user after logout, carry an email but no login.
    assert user_identity({"email": "test@example.com"}) is None
    assert user_identity({"is_logged_in": False, "sub": "1234"}) is None
    assert user_identity({"is_logged_in": "true", "sub": "1234"}) is None  # only a real True
    token = new_browser_token()
    assert choose_identity(user={"email": "x@y.z"}, browser=token).owner == f"browser:{token}"


def test_email_is_the_fallback_without_a_subject():
    assert user_identity({"is_logged_in": True, "email": "Ada@Example.com"}) == (
        "user:email|ada@example.com"
    )
    assert user_identity({"is_logged_in": True}) is None  # nothing to tell users apart


def test_an_over_long_subject_is_hashed_to_fit_the_owner_column():
    owner = user_identity(GOOGLE | {"sub": "s" * 500})
    assert owner.startswith("user:sha256:") and len(owner) <= MAX_OWNER_CHARS
    assert owner != user_identity(GOOGLE | {"sub": "s" * 499})


def test_label_prefers_name_then_email():
    assert user_label({"name": " Ada ", "email": "a@b.c"}) == "Ada"
    assert user_label({"email": "a@b.c"}) == "a@b.c"
    assert user_label({}) == "signed-in user"


def test_shared_history_shares_chats_but_budgets_each_person():
    token = new_browser_token()
    identity = choose_identity(user={}, browser=token, shared_history=True)
    assert identity.owner == SHARED_OWNER
    assert identity.person == f"browser:{token}"
    user = choose_identity(user=GOOGLE, browser=token, shared_history=True)
    assert user.owner == SHARED_OWNER and user.person.startswith("user:")


def test_choose_identity_refuses_a_token_that_is_not_one():
    with pytest.raises(ValueError):
        choose_identity(user={}, browser="not a token")


def test_the_browser_identity_is_kept_beside_a_login():
    # At login the browser's chats are offered to the account: the page needs both owners.
    token = new_browser_token()
    anonymous = choose_identity(user={}, browser=token)
    logged_in = choose_identity(user=GOOGLE, browser=token)
    assert anonymous.browser == logged_in.browser == anonymous.owner == f"browser:{token}"
    assert logged_in.owner != logged_in.browser
    with pytest.raises(ValueError, match="browser must be a token"):
        choose_identity(user=GOOGLE, browser="not a token")
