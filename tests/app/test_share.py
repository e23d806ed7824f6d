"""Share links on the pages (AppTest): the chat's Share menu, the Shared links list, the shared
page (read-only, inert, Continue), and one "not available" page for every dead link."""

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from chat_core import ChatStore
from chat_core.sharing import ShareOptions, link_id, share_chat
from tests.app.conftest import ROOT, browser_of, new_chat_app
from tests.app.test_identity import ADA, ask, chat_titles

pytestmark = pytest.mark.app


def open_share_box(at: AppTest, conversation_id: str) -> None:
    at.session_state[f"share-box-{conversation_id}"] = True  # the user opens it (drawn lazily)
    at.run()
    assert not at.exception, at.exception


def make_link(at: AppTest, conversation_id: str, **ticks: bool) -> str:
    """Press Create link in the chat's Share menu; returns the token the shown link holds."""
    open_share_box(at, conversation_id)
    for name, value in ticks.items():
        at.checkbox(key=f"share-{conversation_id}-{name}").set_value(value)
    before = {c.value for c in at.code}
    at.button(key=f"share-{conversation_id}-create").click().run()
    assert not at.exception, at.exception
    [link] = [c.value for c in at.code if c.value not in before]
    assert link.startswith("shared?t=")
    return link.split("t=", 1)[1]


def visit_shared(token: str | None, browser: str | None = None) -> AppTest:
    """A visitor's session opening ``/shared?t=token`` through the app's navigation."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    if browser is not None:
        at.session_state["browser_token"] = browser
    if token is not None:
        at.query_params["t"] = token
    at.run()
    at.switch_page("app_pages/shared.py").run()
    assert not at.exception, at.exception
    return at


def screen(at: AppTest) -> list[str]:
    """Everything the main area says, in order (to compare two pages)."""
    return [f"{e.type}:{getattr(e, 'value', '')}" for e in at.main]


def test_a_link_shows_the_chat_read_only_and_inert_and_never_the_owners_chats(chat_env):
    alice = new_chat_app()
    conv = ask(alice, "/echo <script>alert(1)</script> ![x](http://127.0.0.1:9/x.png)")
    ask(alice, "/echo second")
    ask(new_chat_app(browser_of(alice)), "/echo another chat of Alice's")  # never shown to Bob
    token = make_link(alice, conv.conversation_id)

    bob = visit_shared(token)
    texts = [m.value for m in bob.markdown]
    # shown exactly as the chat shows it (inert markdown: images escaped, raw HTML as text)
    assert texts == [m.value for m in alice.main.markdown][-4:]
    assert texts[0] == "/echo <script>alert(1)</script> !\\[x](http://127.0.0.1:9/x.png)"
    assert not any("another chat" in t for t in texts)
    assert any(c.value.startswith("Streaming chat · Shared on ") for c in bob.caption)
    assert not bob.chat_input and not bob.sidebar.button  # read-only; nobody's chat list
    assert [b.key for b in bob.button] == ["continue-shared"]
    assert bob.session_state["browser_token"] != browser_of(alice)
    cookie_scripts = [h for h in bob.get("html") if "document.cookie" in h.proto.body]
    assert cookie_scripts == []  # the page never writes the identity cookie
    assert any('content = "noindex' in h.proto.body for h in bob.get("html"))


def test_continue_copies_the_chat_into_the_visitors_own_and_opens_it(chat_env):
    alice = new_chat_app()
    conv = ask(alice, "/echo shared words").conversation_id
    token = make_link(alice, conv)
    bob = new_chat_app()
    ask(bob, "/echo bob's own")
    visitor = visit_shared(token, browser_of(bob))
    visitor.button(key="continue-shared").click().run()
    assert not visitor.exception, visitor.exception
    session = visitor.session_state["chat"]
    assert session.owner == f"browser:{browser_of(bob)}" and session.conversation_id != conv
    assert [t.content for t in session.turns] == ["/echo shared words", "shared words"]
    assert visitor.query_params["c"] == session.conversation_id and "t" not in visitor.query_params
    bob.run()
    assert sorted(chat_titles(bob)) == ["/echo bob's own", "/echo shared words"]
    alice.run()
    assert chat_titles(alice) == ["/echo shared words"]  # Alice's list is unchanged


def test_every_dead_link_gets_the_same_page(chat_env):
    alice = new_chat_app()
    conv = ask(alice, "/echo a").conversation_id
    revoked, live = make_link(alice, conv), make_link(alice, conv)
    with ChatStore(chat_env / "chats.sqlite3") as store:  # a link made 8 days ago, for 7
        expired = share_chat(
            store,
            f"browser:{browser_of(alice)}",
            conv,
            ShareOptions(),
            expiry="7 days",
            app="x",
            now=datetime.now(UTC) - timedelta(days=8),
        )
    alice.button(key=f"share-revoke-{short_id(revoked)}").click().run()
    assert not alice.exception, alice.exception
    pages = [
        screen(visit_shared(t))
        for t in (revoked, expired, live[:-1], live + "A", "A" * 43, "", "<b>", None)
    ]
    assert all(page == pages[0] for page in pages), pages
    assert any("not available" in line for line in pages[0])
    assert not any(live in line for line in pages[0])
    assert "Continue" not in str(pages[0])
    assert "markdown:/echo a" in screen(visit_shared(live))  # the live one still opens


def short_id(token: str, place: str = "menu") -> str:
    """The end of the keys of a link's buttons, in the chat's menu or the Shared links list."""
    return f"{place}-{link_id(token)[:16]}"


def test_update_shows_the_chat_as_it_is_now_behind_the_same_link(chat_env):
    alice = new_chat_app()
    conv = ask(alice, "/echo first").conversation_id
    token = make_link(alice, conv)
    ask(alice, "/echo later")
    assert "later" not in str(screen(visit_shared(token)))
    alice.button(key=f"share-update-{short_id(token)}").click().run()
    assert not alice.exception, alice.exception
    assert "later" in str(screen(visit_shared(token)))


def test_ticks_add_reasoning_and_the_system_prompt_only_when_ticked(chat_env):
    alice = new_chat_app()
    alice.sidebar.text_area(key="system_prompt").input("Talk like a pirate.").run()
    conv = ask(alice, "/think 0.01\n/echo answer").conversation_id
    assert alice.session_state["chat"].turns[1].reasoning  # there is reasoning to share
    plain, ticked = make_link(alice, conv), make_link(alice, conv, reasoning=True, system=True)
    shown = visit_shared(plain)
    assert not shown.expander and "pirate" not in str(screen(shown))
    shown = visit_shared(ticked)
    assert shown.expander[0].label == "System prompt"
    assert [c.value for c in shown.code] == ["Talk like a pirate."]
    assert len(shown.expander) == 2  # and the reasoning's


def test_deleting_the_chat_kills_its_links_and_the_shared_links_list_revokes(chat_env):
    alice = new_chat_app()
    first = ask(alice, "/echo one").conversation_id
    token = make_link(alice, first)
    alice.button(key="new-chat").click().run()
    second = ask(alice, "/echo two").conversation_id
    kept = make_link(alice, second)
    alice.session_state["shared-links"] = True
    alice.run()
    assert [m.value for m in alice.sidebar.markdown if m.value in ("/echo one", "/echo two")] == [
        "/echo two",
        "/echo one",
    ]
    alice.button(key=f"conv-{first}").click().run()
    alice.toggle(key=f"confirm-delete-{alice.session_state['chat'].version}").set_value(True).run()
    alice.button(key="delete").click().run()
    assert not alice.exception, alice.exception
    assert "not available" in str(screen(visit_shared(token)))
    assert "not available" not in str(screen(visit_shared(kept)))
    alice.button(key=f"share-revoke-{short_id(kept, 'list')}").click().run()
    assert "not available" in str(screen(visit_shared(kept)))
    assert any(c.value == "No live links." for c in alice.sidebar.caption)


@pytest.mark.parametrize(
    ("mode", "user", "allowed"),
    [("off", None, False), ("login", None, False), ("login", ADA, True), ("on", None, True)],
)
def test_chat_sharing_decides_who_may_make_links(chat_env, monkeypatch, mode, user, allowed):
    monkeypatch.setenv("CHAT_SHARING", mode)
    at = AppTest.from_file(str(ROOT / "app_pages" / "chat.py"), default_timeout=30)
    if user is not None:
        at.user = user
    at.run()
    conv = ask(at, "/echo hi").conversation_id
    open_share_box(at, conv)
    create = [b for b in at.button if b.key == f"share-{conv}-create"]
    assert bool(create) == allowed
    if not allowed:
        assert any(
            c.value in ("Sharing is turned off on this app.", "Log in to share a chat.")
            for c in at.caption
        )


def test_turning_sharing_off_kills_links_already_given_out(chat_env, monkeypatch):
    alice = new_chat_app()
    token = make_link(alice, ask(alice, "/echo a").conversation_id)
    monkeypatch.setenv("CHAT_SHARING", "off")
    assert "not available" in str(screen(visit_shared(token)))
