"""The workbench in a real browser: Debian's chromium driven by Selenium against the real app
served by uvicorn on a free port, with the real Whisper model transcribing a real recording.

One case from sign-in to the served decision, the way the three roles work it: the officer
opens the case (a refused form first), uploads a recording of ../shared/corpora/speech (the
file's progress, then the job's live progress from its event stream), seeks it from the
transcript, corrects a segment (a refused empty correction first), runs the discretion step
and drafts the notice and the decision; the reviewer reviews with the checklist; the leader
approves and issues the notice; the officer notifies and records the waiver; the leader
decides and issues the decision; the officer serves it and verifies the signed record. Each
role meets what it may not do. axe-core runs on every page (no violation allowed) and each
page is saved as a 1366×768 screenshot (TAXASSIST_SCREENSHOT_DIR, default build/screenshots;
the README shows the ones in docs/screenshots/).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import PROJECT_ROOT
from tests.api.apphelpers import prepare_data_dir
from tests.conftest import DEMO_PASSWORD, SHARED_CORPORA, make_settings, requires_shared

#: The 状态 cells of the case page's document table, one per document.
DOCUMENT_STATES = "section[aria-labelledby='h-docs'] tbody tr > td:nth-child(3)"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(
    os.environ.get("TAXASSIST_SCREENSHOT_DIR") or PROJECT_ROOT / "build" / "screenshots"
)
RECORDING = SHARED_CORPORA / "speech" / "wav" / "BAC009S0764W0122.wav"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--mute-audio",
    "--window-size=1366,768",
    "--lang=zh-CN",
)

# Noted by the page itself as it changes (a MutationObserver): the upload's progress values,
# the job's progress values while its event stream is followed, and the stream's end.
WATCH_PROGRESS = """
window.seenProgress = {upload: [], job: [], done: false};
function note(list, value) { if (list[list.length - 1] !== value) list.push(value); }
new MutationObserver(function () {
  var seen = window.seenProgress, upload = document.querySelector('#upload-progress');
  if (upload && !upload.closest('[hidden]')) note(seen.upload, Number(upload.value));
  var job = document.querySelector('.job[data-following] progress');
  if (job) note(seen.job, Number(job.value));
  var status = document.querySelector('.job[data-following] .job-status');
  if (status && status.textContent === '转写完成') seen.done = true;
}).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
"""

pytestmark = [
    pytest.mark.browser,
    requires_shared,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="chromium and chromium-driver not installed (make system-deps installs them)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Iterator[str]:
    """The real app under uvicorn on a free port (a thread of this process)."""
    import uvicorn

    from api.main import create_app

    settings = make_settings(tmp_path_factory.mktemp("browser") / "data")
    prepare_data_dir(settings, shared_index_dir)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(1366, 768)
    # the page itself is 1366×768 (the window's frame is not taken from it)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.set_script_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


class Workbench:
    """The steps a person takes, each page checked by axe-core and photographed."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base = base_url
        self.axe_source = AXE.read_text(encoding="utf-8")

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def text(self) -> str:
        return str(self.find("body").text)

    def check_page(self, shot: str, at: str = "") -> None:
        """No axe-core violation (every rule axe runs by default), then the screenshot (of the
        part of the page from the element `at`, when given)."""
        self.driver.execute_script(self.axe_source)
        violations = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
            " help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
            ".catch(e => done([{id: 'axe-error', help: String(e)}]));"
        )
        assert violations == [], f"axe-core on {self.driver.current_url}: {violations}"
        if at:
            self.driver.execute_script(  # with a little of what is above it
                "arguments[0].scrollIntoView(); window.scrollBy(0, -90)", self.find(at)
            )
        self.screenshot(shot)

    def screenshot(self, shot: str) -> None:
        """What a 1366×768 screen shows."""
        import base64

        image = base64.b64decode(
            self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
        )
        width, height = struct.unpack(">II", image[16:24])  # the PNG header's IHDR
        assert (width, height) == (1366, 768)
        (SCREENSHOTS / f"{shot}.png").write_bytes(image)

    def sign_in(self, username: str) -> None:
        self.open("/")  # a page asks for sign-in and comes back to it
        assert "/workbench/login" in self.driver.current_url
        self.find("#username").send_keys(username)
        self.find("#password").send_keys(DEMO_PASSWORD)
        self.find("form button[type=submit]").click()
        self.wait_for(lambda: self.driver.current_url == self.base + "/")

    def sign_out(self) -> None:
        self.find(".who button").click()
        self.wait_for(lambda: "/workbench/login" in self.driver.current_url)

    def settled(self) -> bool:
        """The page is loaded and no htmx request is in flight: the lazy panels (analysis,
        timeline) have swapped in, so the layout no longer moves under a click."""
        return bool(
            self.driver.execute_script(
                "return document.readyState === 'complete'"
                " && !document.querySelector('.htmx-request')"
            )
        )

    def press(self, label: str) -> None:
        """Click the button whose text is `label` (exactly one on the page), once the page has
        settled: a lazy panel swapping in between the scroll and the click moves the button,
        and the click lands elsewhere without an error."""
        self.wait_for(self.settled)
        buttons = [b for b in self.all("button") if b.text.strip() == label]
        assert len(buttons) == 1, f"{len(buttons)} buttons labelled {label!r}: {self.text()}"
        buttons[0].click()

    def wait_for(self, condition: Any, timeout: float = 60.0) -> None:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
            TimeoutException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            # a page being replaced (a form posted, htmx swapping a section) is read again
            WebDriverWait(
                self.driver,
                timeout,
                poll_frequency=0.2,
                ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
            ).until(lambda _: condition())
        except TimeoutException:
            self.driver.save_screenshot(str(SCREENSHOTS / "failed.png"))
            raise AssertionError(f"timed out on {self.driver.current_url}: {self.text()}") from None

    def action_line(self, name: str) -> Any:
        """The lifecycle list's line of the action named `name` (allowed, or why not)."""
        lines = [
            li
            for li in self.all(".checks li")
            if li.find_element("css selector", "strong").text == name
        ]
        assert len(lines) == 1, f"{name}: {self.text()}"
        return lines[0]

    def stage(self) -> str:
        return str(self.find("h1 .stage").text)


def test_a_case_from_sign_in_to_the_served_decision(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.keys import Keys

    web = Workbench(browser, base_url)

    # 承办人: sign-in page, own queue, the new-case form refused then accepted
    web.open("/workbench/login")
    web.check_page("01-sign-in")
    web.sign_in("officer")
    assert "我承办的案件" in web.text()
    web.check_page("02-officer-queue")
    web.open("/workbench/cases/new")
    form = {
        "f-taxpayer-name": "示例商贸有限公司",
        "f-taxpayer-id_number": "91150100MA0N7Y2K38",  # wrong check character
        "f-violation_date": "2025-04-15",
        "f-facts": "该公司2025年3月增值税纳税申报逾期45日，经责令限期改正后于2025年5月30日"
        "补办申报，补缴税款12,000元。",
        "f-tax_unpaid": "12000.00",
        "f-days_overdue": "45",
    }
    for field, value in form.items():
        element = web.find(f"#{field}")
        if element.get_attribute("type") == "date":  # typed keys follow the locale's order
            browser.execute_script("arguments[0].value = arguments[1]", element, value)
            continue
        element.clear()
        element.send_keys(value)
    web.find("#f-violation").send_keys("逾期")  # keyboard selection in the select
    from selenium.webdriver.support.ui import Select

    Select(web.find("#f-violation")).select_by_value("late_filing")
    web.find("#f-corrected_in_time").click()
    web.check_page("03-new-case")
    web.press("立案")
    web.wait_for(lambda: bool(web.all("#f-taxpayer-id_number-error")))
    assert "统一社会信用代码" in web.find("#f-taxpayer-id_number-error").text
    assert web.find("#f-taxpayer-name").get_attribute("value") == "示例商贸有限公司"
    assert web.find("#f-facts").get_attribute("value") == form["f-facts"]
    web.check_page("04-new-case-refused")
    code = web.find("#f-taxpayer-id_number")
    code.clear()
    code.send_keys("91150100MA0N7Y2K37", Keys.ENTER)
    web.wait_for(lambda: "/workbench/cases/" in browser.current_url and bool(web.all("h1 .stage")))
    case_path = browser.current_url.removeprefix(base_url)
    assert web.stage() == "调查取证"

    # a real recording: the file's upload progress, then the job's progress from its event
    # stream (what the page showed is noted as it changes), then the transcript
    browser.execute_script(WATCH_PROGRESS)
    web.find("#recording-file").send_keys(str(RECORDING))
    web.press("上传并转写")
    web.wait_for(lambda: bool(web.all(".transcript .segment")), timeout=300)
    seen = browser.execute_script("return window.seenProgress")
    assert seen["upload"] and seen["upload"][-1] == 100, seen
    assert seen["job"], f"the job's progress was never shown: {seen}"
    assert seen["done"], seen  # the stream's final event re-rendered the section
    segment = web.all(".transcript .segment")[0]
    start = float(segment.get_attribute("data-start"))
    last = web.all(".transcript .segment")[-1]
    last.click()
    target = float(last.get_attribute("data-start"))
    web.wait_for(
        lambda: (
            abs(
                browser.execute_script("return document.querySelector('audio').currentTime")
                - target
            )
            < 1.5
        )
    )
    assert start <= target
    # correct the first segment: refused empty (the message beside it), then saved
    first_id = web.find(".transcript li").get_attribute("id")
    web.find(f"#{first_id} a.edit").click()
    web.wait_for(lambda: bool(web.all(f"#{first_id}-text")))
    text = web.find(f"#{first_id}-text")
    machine = text.get_attribute("value")
    text.clear()
    web.find(f"#{first_id}-speaker").send_keys("答")
    web.press("保存更正")
    web.wait_for(lambda: bool(web.all(f"#{first_id}-text-error")))
    assert web.find(f"#{first_id}-text-error").text == "更正后的文字不能为空。"
    assert web.find(f"#{first_id}-speaker").get_attribute("value").endswith("答")
    web.check_page("05-correction-refused", at="#recordings")
    corrected = machine.strip().rstrip("。") + "（已核对）"
    web.find(f"#{first_id}-text").send_keys(corrected)
    web.press("保存更正")
    web.wait_for(lambda: "已更正（第 1 版）" in web.find(f"#{first_id}").text)
    assert corrected in web.find(f"#{first_id}").text
    web.check_page("06-transcript-corrected", at="#recordings")
    for step in ("裁量建议",):
        web.press(step)
        web.wait_for(lambda: "建议罚款" in web.text() or "裁量建议：" in web.text())
    # drafting: the one form, the registry's list of types, then the type's draft page
    for drafted, doc_type in enumerate(("penalty_notice", "penalty_decision"), 1):
        Select(web.find("#draft-type")).select_by_value(doc_type)
        web.press("填写并起草")
        web.wait_for(lambda: bool(web.all("#f-inputs")))
        web.press("起草")
        web.wait_for(lambda: "/workbench/documents/" in browser.current_url)
        web.open(case_path)
        web.wait_for(lambda n=drafted: len(web.all(DOCUMENT_STATES)) == n)
        assert [cell.text for cell in web.all(DOCUMENT_STATES)] == ["草稿"] * drafted
    # the officer may not approve: the reason is on the page, and there is no such form
    assert not web.all("#approve-opinion")
    approve_line = web.action_line("负责人批准")
    assert "不可办理" in approve_line.text
    web.check_page("07-case-officer")
    web.sign_out()

    # 法制审核: the queue, the checklist; no upload, no drafting
    web.sign_in("reviewer")
    assert "待法制审核" in web.text()
    web.check_page("08-reviewer-queue")
    web.open(case_path)
    assert not web.all("#recording-file")
    assert not web.all(".transcript a.edit")  # the transcript is the handling officer's
    for box in web.all("input[type=checkbox][name^=point-]"):
        box.click()
    web.find("#review-opinion").send_keys("事实清楚，证据确凿，适用依据正确。")
    web.check_page("09-case-review")
    web.press("提交审核意见")
    web.wait_for(lambda: web.stage() == "法制审核通过")
    web.sign_out()

    # 负责人: approves, issues the notice
    web.sign_in("approver")
    assert "待负责人批准" in web.text()
    web.check_page("10-approver-queue")
    web.open(case_path)
    web.press("批准")
    web.wait_for(lambda: web.stage() == "负责人已批准")
    web.all("form[action^='/workbench/documents/'] button")[0].click()  # the notice first
    web.wait_for(lambda: "已签发" in web.text())
    decide_line = web.action_line("作出决定")
    assert "不可办理" in decide_line.text and "告知" in decide_line.text
    web.check_page("11-case-approved")
    web.sign_out()

    # 承办人: 告知, the party waives 陈述申辩
    web.sign_in("officer")
    web.open(case_path)
    web.press("告知")
    web.wait_for(lambda: web.stage().startswith("已告知"))
    web.find("#record_statement-waived").click()
    web.press("记录陈述申辩")
    web.wait_for(lambda: "记录陈述申辩" in " ".join(r.text for r in web.all("tbody tr")))
    web.sign_out()

    # 负责人: decides and issues the decision
    web.sign_in("approver")
    web.open(case_path)
    web.press("作出决定")
    web.wait_for(lambda: web.stage() == "已作出决定")
    web.find("button[aria-label^='签发 税务行政处罚决定书']").click()
    web.wait_for(lambda: web.text().count("已签发") == 2)
    serve_line = web.action_line("送达")
    assert "不可办理" in serve_line.text  # 送达 is the officer's
    web.sign_out()

    # 承办人: 送达; the signed record verifies
    web.sign_in("officer")
    web.open(case_path)
    web.press("送达")
    web.wait_for(lambda: web.stage() == "已送达")
    web.wait_for(lambda: "记录完整，签名验证通过" in web.find("#timeline").text)  # loaded after
    web.check_page("12-case-served")
    web.find("a[hx-get$='/record/verify']").click()
    web.wait_for(lambda: "✓ 验证通过" in web.find("#verification").text)
    web.check_page("13-record-verified", at="#h-timeline")
    web.open(case_path + "/archive")  # the 一户式 archive is the administrator's
    assert "只有管理员可以执行此操作" in web.find("#action-error").text
    web.check_page("14-archive-refused")
    web.open("/workbench/cases?q=%E7%A4%BA%E4%BE%8B&status=served")
    assert case_path.rsplit("/", 1)[1] in browser.page_source
    web.check_page("15-case-list")

    # the decision's public record drafted at its issue: its review from the decision's line,
    # then the 公示 list
    web.open(case_path)
    web.find("a[href^='/workbench/publications/']").click()
    web.wait_for(lambda: "已遮蔽的内容" in web.text())
    assert web.find("#publish").is_displayed()
    web.check_page("16-publication-review")
    web.open("/workbench/publications")
    assert "待公示事项" in web.text() and "草稿（待审核）" in web.text()
    web.check_page("17-publications")


def test_analysis_panels_and_the_document_editor(browser: Any, base_url: str) -> None:
    """The officer's case with its analysis run (through the API, as a script would): the
    panels load after the page, the chart and the marked entities are there, the document
    editor shows the preview and a fact-guard refusal at its text; axe-core on both pages."""
    import httpx

    from tests.conftest import demo_case_payload

    with httpx.Client(base_url=base_url, timeout=120) as api:
        token = api.post("/auth/token", json={"username": "officer", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        case = api.post("/cases", json=demo_case_payload(), headers=headers).json()
        for step in ("entities", "retrieval", "discretion"):
            assert api.post(f"/cases/{case['id']}/{step}", headers=headers).status_code == 201
        notice = api.post(
            f"/cases/{case['id']}/documents", json={"doc_type": "penalty_notice"}, headers=headers
        ).json()

    web = Workbench(browser, base_url)
    browser.delete_all_cookies()
    web.sign_in("officer")
    web.open(f"/workbench/cases/{case['id']}")
    web.wait_for(lambda: bool(web.all("#panel-discretion svg")))
    web.wait_for(lambda: bool(web.all("#panel-entities mark.ent")))
    web.wait_for(lambda: "推送理由" in web.find("#panel-statutes").text)
    assert web.all("#panel-similar table tbody tr")
    web.find("#panel-discretion").location_once_scrolled_into_view  # noqa: B018
    web.check_page("16-analysis-panels")
    # a panel whose load is refused (here the timeline asked for a case that does not exist)
    # shows the API's message and code, and a button that loads it again, by keyboard too
    from selenium.webdriver.common.keys import Keys

    web.wait_for(lambda: bool(web.all("#timeline table")))
    browser.execute_script(
        "htmx.ajax('GET', '/workbench/cases/999999/timeline', {target: '#timeline'})"
    )
    web.wait_for(lambda: bool(web.all("#timeline .error button.retry")))
    assert web.find("#timeline .error p").text == "案件 999999 不存在。"
    assert "case_not_found" in web.find("#timeline .error").text
    web.check_page("18-panel-refused", at="#timeline")
    web.find("#timeline button.retry").send_keys(Keys.ENTER)
    web.wait_for(lambda: "记录完整，签名验证通过" in web.find("#timeline").text)
    # any other refused htmx request: the API's message beside the control that sent it
    verify = web.find(".record-tools a[hx-get]")
    browser.execute_script(
        "htmx.ajax('GET', '/workbench/cases/999999/record/verify',"
        " {source: arguments[0], target: '#verification'})",
        verify,
    )
    web.wait_for(lambda: bool(web.all(".record-tools .request-error")))
    beside = web.find(".record-tools .request-error").text
    assert "案件 999999 不存在。" in beside and "case_not_found" in beside
    # the sign-in lapses under the open page: the next htmx request goes to the sign-in page
    # (not into the panel) and back to the case after it
    browser.delete_all_cookies()
    web.find(".record-tools a[hx-get]").click()
    page = f"/workbench/cases/{case['id']}"
    web.wait_for(lambda: "/workbench/login" in browser.current_url)
    assert browser.current_url == f"{base_url}/workbench/login?next={page}"
    web.find("#username").send_keys("officer")
    web.find("#password").send_keys(DEMO_PASSWORD)
    web.find("form button[type=submit]").click()
    web.wait_for(lambda: browser.current_url == base_url + page)

    web.open(f"/workbench/documents/{notice['id']}")
    text = web.find("#f-text")
    wrong = text.get_attribute("value").replace("1,250.00", "9,999.00", 1)
    browser.execute_script("arguments[0].value = arguments[1]", text, wrong)
    web.press("保存为新版本")
    web.wait_for(lambda: bool(web.all("mark.finding")))
    assert "9,999.00" in web.find("mark.finding").text
    assert web.find("#f-text").get_attribute("value") == wrong  # nothing typed is lost
    web.check_page("17-document-editor-refused")
