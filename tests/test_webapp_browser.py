"""The reference web app in a real browser: Debian's Chromium driven by Selenium through
Debian's chromedriver (nothing downloads a browser). A support morning, walked by hand:
an agent creates, comments, moves and resolves a case; its customer sees only the public
replies and rates it; an executive finds no button and is refused every forced write.

Without Chromium, chromedriver or Selenium the test skips locally and FAILS when CI=true.
Screenshots of each page go to a temporary folder (``WEBAPP_SCREENSHOTS`` to choose it).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from caselib import Actor, ServiceDesk
from webapp_world import make_app, make_desk

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _need(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing (CI installs chromium-driver; see .ci/run)")
    pytest.skip(f"{what} is missing")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, ServiceDesk]]:
    """The app on 127.0.0.1 at a free port, served by uvicorn in a thread."""
    import uvicorn

    desk = make_desk(tmp_path / "web.sqlite3")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(make_app(desk), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10  # waits for the server to listen, not for time to pass
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", desk
    srv.should_exit = True
    thread.join(timeout=10)
    desk.store.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        _need("chromium or chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need("selenium")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("WEBAPP_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_support_morning_in_the_browser(server: tuple[str, ServiceDesk], browser: Any,
                                           shots: Path) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, desk = server
    b = browser

    def go(path: str, shot: str | None = None) -> None:
        b.get(base + path)
        if shot:
            b.save_screenshot(str(shots / f"{shot}.png"))

    def one(css: str) -> Any:
        return b.find_element(By.CSS_SELECTOR, css)

    def click(element: Any) -> None:
        """Submit a form by its button and wait until the next page has replaced this one.

        The old page is marked with a window flag and the wait asks the new page for it.
        (Selenium's ``staleness_of`` polls the old <html> node, and Chromium sometimes
        answers that poll mid-navigation with a generic inspector error instead of a stale
        reference, which failed the test at random.) Errors while the page is between two
        documents mean "not yet", so they are polled through.
        """
        b.execute_script("window.caselibOldPage = true;")
        element.click()
        WebDriverWait(b, 15, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return window.caselibOldPage !== true && document.readyState === 'complete';"))

    def login(user: str) -> None:
        go("/login", "login")
        click(one(f"#login-{user}"))

    # -- an agent (support lead) creates a case; the router sends it to finance
    login("ana")
    assert b.current_url.endswith("/cases")
    one("#new-case input[name=subject]").send_keys("Invoice shows wrong VAT")
    one("#new-case input[name=category]").send_keys("Billing")
    one("#new-case input[name=contact]").send_keys("jane@example.com")
    click(one("#create"))
    case_path = b.current_url.removeprefix(base)
    case_id = case_path.rsplit("/", 1)[1]
    assert one("#team").text == "finance"  # routed
    b.save_screenshot(str(shots / "case-new.png"))

    # -- comments: a public reply and an internal note
    one("#comment-body").send_keys("We are checking your invoice.")
    Select(one("#comment-audience")).select_by_value("public")
    click(one("#comment"))
    one("#comment-body").send_keys("VAT id missing in billing profile")
    click(one("#comment"))
    assert "VAT id missing" in one("#timeline").text

    # -- across the board: new → open → in progress → pending customer
    for to in ("open", "in_progress", "pending_customer"):
        go("/cases/board")
        card = one(f'.card[data-case="{case_id}"]')
        Select(card.find_element(By.NAME, "to")).select_by_value(to)
        click(card.find_element(By.CSS_SELECTOR, "button.move"))
        assert b.current_url.endswith("/cases/board")
        column = one(f'.col[data-status="{to}"]')
        assert column.find_elements(By.CSS_SELECTOR, f'.card[data-case="{case_id}"]')
    b.save_screenshot(str(shots / "board.png"))

    # -- resolving without a note is refused (422), then resolved with one
    go(case_path)
    click(one("#resolve"))
    assert one("#error").get_attribute("data-status") == "422"
    b.save_screenshot(str(shots / "refused.png"))
    go(case_path)
    one("#resolve-summary").send_keys("Added the VAT id; corrected invoice sent")
    click(one("#resolve"))
    assert one("#status").text == "resolved"
    for page in ("/cases", "/inbox/cases", "/reports"):
        go(page, page.strip("/").replace("/", "-"))
    assert len(b.find_elements(By.CSS_SELECTOR, "figure[data-chart] svg")) == 4  # charts
    go("/cases")
    click(one("header form button"))  # log out
    assert b.current_url.endswith("/login")

    # -- the customer sees only public replies, and rates the case
    login("jane")
    assert b.current_url.endswith("/portal")
    b.save_screenshot(str(shots / "portal.png"))
    go(f"/portal/{case_id}", "portal-case")
    replies = one("#replies").text
    assert "We are checking your invoice." in replies
    assert "VAT id missing" not in b.page_source
    Select(one("#score")).select_by_value("5")
    click(one("#rate"))
    case = desk.get_case(case_id, actor=Actor.system())
    assert case.csat is not None and case.csat.score == 5
    b.delete_all_cookies()

    # -- an executive reads everything and can do nothing
    login("eve")
    go(case_path, "case-executive")
    main = one("main")
    assert not main.find_elements(By.CSS_SELECTOR, "button, form[method=post]")
    go("/cases/board")
    assert not b.find_elements(By.CSS_SELECTOR, "button.move")
    go("/cases")
    assert not b.find_elements(By.CSS_SELECTOR, "#new-case")
    forced = {"comment": "body=x", "transition": "to=in_progress", "resolve": "summary=x",
              "reopen": "reason=x", "close": "note=x", "escalate": "reason=x",
              "assign": "assignee=eve"}
    for name, body in forced.items():
        status = b.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {method: 'POST', body: arguments[1], headers: "
            "{'content-type': 'application/x-www-form-urlencoded'}})"
            ".then(r => done(r.status));", f"{case_path}/{name}", body)
        assert status == 403, (name, status)
    assert desk.get_case(case_id, actor=Actor.system()).version == case.version
