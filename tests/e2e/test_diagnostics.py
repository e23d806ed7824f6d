"""The diagnostics page: a probe streams one answer and its measurements and charts appear."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.harness import WAIT_MS, ChatPage, Server, streamlit_app

pytestmark = pytest.mark.e2e


def metric(page: Page, label: str) -> Locator:
    """The value of the ``st.metric`` with this label."""
    box = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return box.get_by_test_id("stMetricValue")


# True once both charts hold a drawing over 100 px wide and tall. Asked of the page in one
# go, so a chart redrawn between two Playwright calls cannot leave a detached element.
CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  return charts.length === 2 && charts.every((chart) => {
    const drawing = chart.querySelector("canvas, svg");
    if (!drawing) return false;
    const box = drawing.getBoundingClientRect();
    return box.width > 100 && box.height > 100;
  });
}"""


def nav(page: Page) -> Locator:
    return page.get_by_test_id("stSidebarNav")


def test_probe_runs_and_shows_its_charts(page: Page, app_server: Server) -> None:
    ChatPage(page).open(app_server.url)
    nav(page).get_by_role("link", name="Diagnostics").click()
    expect(page.get_by_role("heading", name="Stream diagnostics")).to_be_visible()
    # A 1.5 s stall after 40 tokens: one stall to count and a long bar in the gap chart.
    page.get_by_label("Prompt or directive").fill("/stall 1.5 after 40\n/lorem 200")

    page.locator(".st-key-run_probe button").click()

    # "Total" replaces "Elapsed" once the stream has finished.
    expect(metric(page, "Total")).to_be_visible(timeout=WAIT_MS)
    expect(metric(page, "Tokens")).to_have_text("200")
    expect(metric(page, "Stalls > 1 s")).to_have_text("1")
    # The stream's end reruns the page, which draws the charts again: wait for that rerun
    # (the button is enabled again), then for both charts to be drawn at a readable size.
    expect(page.locator(".st-key-run_probe button")).to_be_enabled(timeout=WAIT_MS)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)
    page.wait_for_function(CHARTS_DRAWN, timeout=WAIT_MS)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()


@pytest.fixture
def fresh_app_server(tmp_path: Path) -> Iterator[Server]:
    with streamlit_app(tmp_path) as server:
        yield server


def test_first_visit_by_url_gets_the_apps_navigation(page: Page, fresh_app_server: Server) -> None:
    # The first visitor after a (re)start who opens a bookmark. Until some session has run
    # st.navigation, Streamlit treats a folder named pages/ as a legacy multipage app: it runs
    # the page file alone, without the entry script's page config and navigation.
    page.goto(f"{fresh_app_server.url}/diagnostics")

    expect(page.get_by_role("heading", name="Stream diagnostics")).to_be_visible()
    expect(nav(page).get_by_role("link")).to_have_text(  # the shared-chat page is hidden
        [re.compile(r"Chat$"), re.compile(r"Compare$"), re.compile(r"Diagnostics$")]
    )
    expect(page).to_have_title(re.compile("Streaming chat"))


def test_metrics_are_compact_on_a_phone(browser, app_server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(app_server.url.rstrip("/") + "/diagnostics")
    expect(page.get_by_role("heading", name="Stream diagnostics")).to_be_visible()
    page.get_by_label("Prompt or directive").fill("/lorem 50")
    page.locator(".st-key-run_probe button").click()
    expect(metric(page, "Total")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".st-key-run_probe button")).to_be_enabled(timeout=WAIT_MS)
    boxes = page.get_by_test_id("stMetric").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect()).map(b => [b.top, b.bottom])"
    )
    tops = sorted({round(top) for top, _ in boxes})
    height = max(b for _, b in boxes) - min(t for t, _ in boxes)
    assert len(boxes) == 12  # no reasoning metrics for a plain stream
    assert len(tops) <= 6 and height < 700, (len(tops), height)  # was 15 rows, 1,400 px
    context.close()
