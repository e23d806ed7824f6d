"""The sidebar's Usage and prices: totals always, the price editor only while it is open."""

import pytest

from chat_core import ModelPrice, default_price_table
from tests.app.conftest import new_chat_app

pytestmark = pytest.mark.app


def editors(at):
    return at.sidebar.get("dataframe")


def test_the_price_editor_is_built_only_while_open_and_reopens_with_the_prices_in_use(chat_env):
    at = new_chat_app()
    assert editors(at) == []  # closed: no editor built on this rerun
    assert at.session_state["prices"] == default_price_table()

    at.session_state["usage-box"] = True  # the user opens it
    at.run()
    assert len(editors(at)) == 1

    custom = {"my-model": ModelPrice(1.0, 2.0)}
    at.session_state["usage-box"] = False
    at.session_state["prices"] = custom  # as if edited before closing
    at.run()
    assert editors(at) == []
    assert at.session_state["prices"] == custom  # closing keeps the prices

    at.session_state["usage-box"] = True
    at.run()
    assert at.session_state["price_editor_rows"] == [
        {"model": "my-model", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0}
    ]
    assert at.session_state["prices"] == custom
