"""The HTML report in a real browser: the system's headless Chromium, driven by playwright,
with every network request blocked and recorded. What a reader sees is checked by the DOM
(banner, rows, figures, sorting, no sideways scrolling, no console errors) and by the pixels of
a full-page screenshot.

Chromium comes from the system (`make browser` installs Debian's); playwright never downloads
one. Without /usr/bin/chromium these tests skip.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from test_report_render import sample_growth, sample_report

from armbench.analysis import render_html
from armbench.analysis.facts import prompt_growth
from armbench.analysis.report import build_report
from armbench.analysis.report_model import Report

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
BANNER_RGB = (179, 38, 30)
"""The simulated banner's background (--simulated in templates/report.css)."""


@dataclass
class Session:
    page: Any
    report: Report
    loads: list[str] = field(default_factory=list)
    """Every request for anything but the report file itself: must stay empty."""
    errors: list[str] = field(default_factory=list)


def _demo_run(folder: Path) -> Path:
    """A real run of the demo config — every arm of `make demo` on simulated models — cut to
    one agentic task, one single-shot task and one replicate so the test stays short."""
    config = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    config.update(
        rate_card=str(EXAMPLES / "demo-prices.toml"),
        tasks=["feature", "roman"],
        replicates=1,
    )
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [sys.executable, "-m", "armbench.cli", "run", str(path), "--out", str(folder / "runs")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=["sample", "demo"])
def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Session]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium not installed (/usr/bin/chromium): run `make browser` (as root with "
            "apt-get) to install Debian's chromium for this test"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    folder = tmp_path_factory.mktemp("report")
    if request.param == "sample":
        report = sample_report()
        growth = sample_growth(report)
    else:
        run_dir = _demo_run(folder)
        report = build_report(run_dir)
        growth = prompt_growth(run_dir)
    path = folder / "report.html"
    path.write_text(render_html.render_html(report, growth), encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, offline=True)
            page = context.new_page()
            session = Session(page, report)

            def route(route: Any) -> None:
                url = route.request.url
                if url == path.as_uri():
                    route.continue_()
                else:
                    session.loads.append(url)
                    route.abort()

            context.route("**/*", route)
            page.on("request", lambda r: r.url == path.as_uri() or session.loads.append(r.url))
            page.on("console", lambda m: m.type == "error" and session.errors.append(m.text))
            page.on("pageerror", lambda e: session.errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            yield session
        finally:
            browser.close()


def _clean(session: Session) -> None:
    assert session.loads == [], f"the report tried to load {session.loads}"
    assert session.errors == [], f"console errors: {session.errors}"


def test_banner_rows_and_figures_are_rendered(session: Session) -> None:
    page, report = session.page, session.report
    banner = page.locator("#banner-simulated")
    assert banner.is_visible()
    assert "SIMULATED" in banner.inner_text()
    box = banner.bounding_box()
    assert box is not None and box["y"] < 100 and box["height"] >= 30
    background = banner.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb({}, {}, {})".format(*BANNER_RGB)

    rows = page.locator("#cells-table tbody tr")
    assert rows.count() == len(report.cells)
    arms = page.locator("#cells-table tbody tr td:first-child").all_inner_texts()
    assert sorted(a.strip() for a in arms) == sorted(c.arm for c in report.cells)

    svgs = page.locator("figure.chart svg")
    tasks = {c.task for c in report.cells}
    if report.run_id.startswith("demo"):
        # per task with two arms or more: cost vs wall, cost vs success; then token growth,
        # delegation tax and cloud fraction (the demo has orchestrated and routed arms)
        assert svgs.count() >= 2 * len(tasks) + 3
    else:
        assert svgs.count() == 3 * len(tasks) + 2
    for i in range(svgs.count()):
        svg = svgs.nth(i)
        size = svg.bounding_box()
        assert size is not None and size["width"] > 300 and size["height"] > 150, i
        assert svg.evaluate("e => e.querySelectorAll('text').length") > 5
    _clean(session)


def test_the_page_never_scrolls_sideways(session: Session) -> None:
    page = session.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth")
    # The wide tables scroll inside their own boxes instead.
    boxes = page.evaluate(
        "[...document.querySelectorAll('.scroll')].map(e => e.getBoundingClientRect().right)"
    )
    assert boxes and max(boxes) <= VIEWPORT["width"]
    _clean(session)


def _column(page: Any, index: int) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "#cells-table tbody tr",
            f"rows => rows.map(r => r.cells[{index}].getAttribute('data-sort'))",
        )
    )


def test_clicking_a_header_sorts_numerically(session: Session) -> None:
    page = session.page
    headers = page.locator("#cells-table thead th")
    labels = [t.strip() for t in headers.all_inner_texts()]
    index = next(i for i, label in enumerate(labels) if label.startswith("E[cost/success]"))
    header = headers.nth(index)
    before = _column(page, index)

    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = _column(page, index)
    known = [float(v) for v in ascending if v]
    assert known == sorted(known)
    assert ascending[len(known) :] == [""] * (len(ascending) - len(known))  # missing last
    assert ascending != before
    assert sorted(ascending) == sorted(before)

    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    descending = _column(page, index)
    known = [float(v) for v in descending if v]
    assert known == sorted(known, reverse=True)
    assert descending[len(known) :] == [""] * (len(descending) - len(known))
    assert headers.nth(0).get_attribute("aria-sort") is None
    _clean(session)


def test_the_screenshot_shows_the_banner_and_the_report(session: Session) -> None:
    import matplotlib.image

    page = session.page
    png = page.screenshot(full_page=True, type="png")
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    rgb = np.rint(pixels[..., :3] * 255).astype(np.int16)
    height, width = rgb.shape[:2]
    assert width == VIEWPORT["width"] and height > 2 * VIEWPORT["height"]

    top = rgb[:120]
    banner = np.all(np.abs(top - np.array(BANNER_RGB)) <= 6, axis=-1).mean()
    assert banner > 0.25, f"banner colour covers only {banner:.0%} of the top of the page"

    nonwhite = np.any(rgb < 245, axis=-1).mean()
    assert nonwhite > 0.05
    packed = (rgb[..., 0] // 16) * 256 + (rgb[..., 1] // 16) * 16 + rgb[..., 2] // 16
    colours = len(np.unique(packed))
    assert colours > 40, f"only {colours} distinct colours: is anything drawn?"
    _clean(session)
