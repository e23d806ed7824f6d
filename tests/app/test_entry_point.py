"""The entry point: navigation over the pages, and the startup heap frozen for cheap reruns."""

import gc

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT

pytestmark = pytest.mark.app


def test_a_run_freezes_what_is_loaded_so_later_collections_skip_it(chat_env):
    gc.unfreeze()
    try:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
        assert not at.exception
        assert at.chat_input  # the chat page is the default
        assert gc.get_freeze_count() > 10_000  # the modules' objects, not a handful
    finally:
        gc.unfreeze()
