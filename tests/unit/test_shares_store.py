from datetime import UTC, datetime, timedelta

from chat_core.storage.shares import create_share, open_share, revoke_chat_shares, revoke_share
from chat_core.storage.store import ChatStore

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SNAP = {"messages": [{"role": "user", "content": "<script>x</script>"}]}


def test_share_lifecycle_on_either_database(store_url: str) -> None:
    with ChatStore(store_url) as store:
        db = store.db
        token = create_share(db, "alice", "c1", SNAP, NOW, "1 day")
        other = create_share(db, "alice", "c1", SNAP, NOW, "Never")
        assert open_share(db, token, NOW) == SNAP
        assert open_share(db, token, NOW + timedelta(days=1)) is None  # expired
        assert open_share(db, token[:-1], NOW) is None
        assert open_share(db, "x" * 43, NOW) is None
        assert not revoke_share(db, "mallory", token, NOW)  # not theirs
        assert open_share(db, token, NOW) == SNAP
        assert revoke_share(db, "alice", token, NOW)
        assert open_share(db, token, NOW) is None
        assert open_share(db, other, NOW + timedelta(days=3650)) == SNAP
        assert revoke_chat_shares(db, "alice", "c1", NOW) == 1
        assert open_share(db, other, NOW) is None
