"""The web face in a real browser (headless Chromium) against a real ``vlagent serve``: sign in
through the printed one-time URL, search as you type in English and Chinese, open a result with
the keyboard, the OCR boxes over the image (click to copy, drag to select), ask and see the answer
streamed, Ask all, upload through the file input, the timeline paging through thousands of images
with a bounded page, and every door shut without the cookie (and to a cross-site POST)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.web.conftest import CORPUS, PNGS

pytestmark = pytest.mark.slow

STATIC = Path(__file__).resolve().parents[2] / "resources" / "web"


# --- helpers ---------------------------------------------------------------------------------
def http(method: str, url: str, *, headers: dict | None = None, data: bytes | None = None):
    """(status, headers, body) without following redirects and without a cookie jar."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None

    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def app(browser, served):
    """The browser, signed in through the login URL ``vlagent serve`` printed."""
    browser.driver.get(served.login)
    browser.wait(lambda: browser.js("return !!(window.vlagent && window.vlagent.state.booted)"), 30, "the app")
    return browser


def cookie_of(b, served) -> dict:
    port = urllib.parse.urlsplit(served.url).port
    cookies = {c["name"]: c for c in b.driver.get_cookies()}
    return cookies[f"vlagent_session_{port}"]


def csrf_of(b) -> str:
    return b.js("return document.querySelector('meta[name=csrf-token]').content")


def type_query(b, text: str) -> list[str]:
    """Type into the search box key by key (search as you type) and wait for its results' names."""
    from selenium.webdriver.common.keys import Keys

    q = b.driver.find_element("id", "q")
    q.send_keys(Keys.CONTROL, "a")
    q.send_keys(Keys.BACKSPACE)
    for ch in text:
        q.send_keys(ch)
    return b.wait(lambda: b.js(
        "const s = window.vlagent.state; return s.lastRender && s.lastRender.q === arguments[0] && "
        "document.getElementById('q').value === arguments[0] ? s.hits.map(h => h.name).concat(['']) : null", text),
        what=f"results for {text!r}")[:-1]


def open_detail_with_keys(b) -> None:
    from selenium.webdriver.common.keys import Keys

    q = b.driver.find_element("id", "q")
    q.send_keys(Keys.ARROW_DOWN)  # into the results
    b.driver.switch_to.active_element.send_keys(Keys.ENTER)
    b.wait(lambda: b.js("const d = window.vlagent.state.detail; return !!d && "
                        "!document.getElementById('detail').hidden"), what="the detail view")


def close_detail(b) -> None:
    from selenium.webdriver.common.keys import Keys

    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: b.js("return document.getElementById('detail').hidden"), what="the detail view to close")


# --- signing in ---------------------------------------------------------------------------------
def test_login_through_the_printed_url_sets_a_strict_httponly_cookie(app, served):
    assert served.login.startswith(served.url + "/login?token=")
    c = cookie_of(app, served)
    assert c["httpOnly"] and c["sameSite"] == "Strict" and c["path"] == "/"
    assert app.js("return document.cookie") == ""  # out of the page's reach
    assert app.driver.current_url.rstrip("/").split("#")[0] == served.url
    # The link works once.
    status, _, body = http("GET", served.login)
    assert status == 403 and b"not valid" in body
    # The page itself: no inline script, every request to this server only.
    status, headers, _ = http("GET", served.url + "/", headers={"Cookie": f"{c['name']}={c['value']}"})
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_every_request_of_the_page_stays_on_this_server_and_the_page_is_light(app, served):
    app.requests()  # drop what came before
    app.driver.get(served.url + "/")
    app.wait(lambda: app.js("return !!(window.vlagent && window.vlagent.state.booted)"), what="the app")
    urls = app.requests()
    assert urls and all(u.startswith(served.url) or u.startswith(("data:", "blob:")) for u in urls), urls
    weight = sum(p.stat().st_size for p in STATIC.iterdir() if p.suffix in (".js", ".css"))
    assert weight <= 200 * 1024, f"{weight} bytes of script and style"
    assert not [m for m in app.console() if "Content Security Policy" in m or "SEVERE" in m.upper()], app.console()


# --- searching ----------------------------------------------------------------------------------
def test_search_as_you_type_in_english_and_chinese(app):
    assert "zebracorn.png" in type_query(app, "zebracorn")
    assert type_query(app, "qwixotic") == ["zebracorn.png"]
    assert set(type_query(app, "狗")) == {"pets.png", "mixed.png"}  # one character
    assert type_query(app, "猫咪") == ["pets.png"]  # two
    marks = app.js("return [...document.querySelectorAll('#results .hit mark')].map(m => m.textContent)")
    assert "猫咪" in "".join(marks)
    assert "Zebracorn" not in type_query(app, "nothing-like-this-anywhere")
    assert app.js("return !document.getElementById('empty').hidden")


def test_filters_match_the_desktop_window(app):
    from selenium.webdriver.support.ui import Select

    options = {sel: [o.get_attribute("value") for o in Select(app.driver.find_element("id", sel)).options]
               for sel in ("f-source", "f-seen", "f-sort", "f-folder")}
    assert options["f-source"] == ["", "folder", "screenshot", "import", "api", "web"]
    assert options["f-seen"] == ["", "0", "7", "30", "365"]
    assert options["f-sort"] == ["relevance", "date"]
    assert options["f-folder"][0] == "" and options["f-folder"][-1] == "__other__"
    assert "zebracorn.png" in type_query(app, "zebracorn")
    Select(app.driver.find_element("id", "f-source")).select_by_value("screenshot")  # the PNGs are imports
    app.wait(lambda: app.js("return window.vlagent.state.hits.length === 0"), what="the filtered search")
    Select(app.driver.find_element("id", "f-source")).select_by_value("import")
    app.wait(lambda: app.js("return window.vlagent.state.hits.some(h => h.name === 'zebracorn.png')"),
             what="the import filter")
    Select(app.driver.find_element("id", "f-source")).select_by_value("")


# --- one image --------------------------------------------------------------------------------------
def test_open_with_the_keyboard_and_see_the_ocr_boxes(app):
    from selenium.webdriver.common.action_chains import ActionChains

    type_query(app, "zebracorn")
    open_detail_with_keys(app)
    d = app.js("return window.vlagent.state.detail")
    assert d["name"] == "zebracorn.png" and len(d["ocr"]["lines"]) >= 3
    app.wait(lambda: app.js("const i = document.getElementById('d-img'); return i.complete && i.naturalWidth > 0"),
             what="the image")
    boxes = app.driver.find_elements("css selector", "#boxes .ocr-box")
    assert len(boxes) == len(d["ocr"]["lines"])
    hits = app.driver.find_elements("css selector", "#boxes .ocr-box.hit")
    assert [h.get_attribute("title") for h in hits] == ["Zebracorn quarterly forecast"]  # the search hit, in place
    stage = app.driver.find_element("id", "stage").rect
    first = boxes[0].rect
    assert stage["x"] <= first["x"] and first["x"] + first["width"] <= stage["x"] + stage["width"] + 1

    app.js("window.__copied = []; document.getElementById('stage').addEventListener('copied', "
           "e => window.__copied.push(e.detail.text))")
    boxes[1].click()  # one line
    app.wait(lambda: app.js("return window.__copied.length === 1"), what="a copied line")
    assert app.js("return window.__copied[0]") == "Vendor Qwixotic Ltd"
    # Drag a rectangle over all of them: every line, in reading order.
    last = boxes[-1].rect
    ActionChains(app.driver).move_to_element_with_offset(boxes[0], -boxes[0].rect["width"] // 2 - 4,
                                                         -boxes[0].rect["height"] // 2 - 4) \
        .click_and_hold().move_by_offset(max(b.rect["width"] for b in boxes) + 12,
                                         last["y"] + last["height"] - first["y"] + 10).release().perform()
    app.wait(lambda: app.js("return window.__copied.length === 2"), what="the dragged selection")
    assert app.js("return window.__copied[1]").split("\n") == PNGS["zebracorn.png"]
    assert app.driver.find_element("id", "d-text").text.splitlines() == PNGS["zebracorn.png"]
    close_detail(app)


def test_arrow_keys_step_through_the_results_in_the_detail_view(app):
    from selenium.webdriver.common.keys import Keys

    names = type_query(app, "狗")
    assert len(names) == 2
    open_detail_with_keys(app)
    shown = lambda: app.js("const d = window.vlagent.state.detail; return d && d.name")  # noqa: E731
    assert shown() == names[0]
    body = app.driver.find_element("tag name", "body")
    body.send_keys(Keys.ARROW_RIGHT)
    app.wait(lambda: shown() == names[1], what="the next result")
    assert app.driver.current_url.endswith(f"#/image/{app.js('return window.vlagent.state.detail.id')}")
    body.send_keys(Keys.ARROW_LEFT)
    app.wait(lambda: shown() == names[0], what="the previous result")
    close_detail(app)
    assert app.driver.current_url.endswith("#/")


def test_ask_about_an_image_streams_the_answer(app, served):
    type_query(app, "猫咪")
    open_detail_with_keys(app)
    ask = app.driver.find_element("id", "ask-q")
    ask.send_keys("what is in this picture?")
    app.js("window.__updates = 0; new MutationObserver(() => window.__updates++)"
           ".observe(document.getElementById('ask-out'), {subtree: true, childList: true, characterData: true})")
    ask.submit()
    app.wait(lambda: app.js("return window.vlagent.state.asking === null && "
                            "!document.getElementById('ask-out').hidden"), 90, "the answer")
    out = app.driver.find_element("id", "ask-out")
    assert "err" not in out.get_attribute("class"), out.text
    assert app.js("return window.__updates") >= 3  # thinking…, then the pieces as they came
    answers = app.driver.find_elements("css selector", "#d-answers .qa .q")
    assert [a.text for a in answers][:1] == ["what is in this picture?"]  # stored with the image
    close_detail(app)

    # The stream itself: NDJSON pieces, then the whole answer.
    c = cookie_of(app, served)
    image_id = app.js("return window.vlagent.state.hits[0].id")
    status, headers, body = http("POST", served.url + "/web/api/ask", data=json.dumps(
        {"image_id": image_id, "question": "and the weather?"}).encode(), headers={
        "Cookie": f"{c['name']}={c['value']}", "X-CSRF-Token": csrf_of(app), "Content-Type": "application/json",
        "Origin": served.url})
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in body.decode().splitlines()]
    tokens = [e["token"] for e in events if "token" in e]
    assert len(tokens) >= 2 and events[-1]["done"] and events[-1]["text"].strip()


def test_ask_all_streams_an_answer_with_its_sources(app):
    app.driver.find_element("id", "ask-all-btn").click()
    q = app.driver.find_element("id", "m-q")
    assert app.driver.switch_to.active_element == q
    q.send_keys("what was the total on the ACME invoice?")
    q.submit()
    app.wait(lambda: app.js("return window.vlagent.state.memAsking === null && "
                            "document.querySelectorAll('#m-sources .hit').length > 0"), 90, "the memory answer")
    assert "err" not in app.driver.find_element("id", "m-out").get_attribute("class")
    close_detail(app)  # Esc closes the dialog too


# --- upload -------------------------------------------------------------------------------------
def test_upload_through_the_file_input_opens_it_with_the_ask_box_focused(app, tmp_path):
    from vlagent.samples import text_image

    path = tmp_path / "uploaded-receipt.png"
    text_image(["Receipt Plumbus store", "Amount 19.99"]).save(path)
    app.driver.find_element("id", "file").send_keys(str(path))
    app.wait(lambda: app.js("const d = window.vlagent.state.detail; return d && d.name && "
                            "d.name.endsWith('.png') && d.ocr && d.ocr.text.includes('Plumbus')"), 90, "the upload")
    assert app.js("return document.activeElement.id") == "ask-q"
    assert app.js("return window.vlagent.state.detail.source") == "web"  # not "api": dropped on the page
    close_detail(app)
    assert type_query(app, "plumbus")


def test_drop_or_paste_an_image_indexes_it_and_opens_the_ask_box(app):
    # An image made in the page (a canvas with text), dropped on the page, then pasted.
    make = """
        const c = document.createElement('canvas'); c.width = 420; c.height = 90;
        const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 420, 90);
        g.fillStyle = '#000'; g.font = '40px sans-serif'; g.fillText(arguments[0], 12, 60);
        return new Promise(r => c.toBlob(b => r(b), 'image/png')).then(blob => {
          const dt = new DataTransfer(); dt.items.add(new File([blob], arguments[1], {type: 'image/png'}));
          window.__dt = dt; return true; });"""
    for word, how in (("Quokka 123", "drop"), ("Wombat 456", "paste")):
        app.js(make, word, f"{how}.png")
        if how == "drop":
            app.js("for (const t of ['dragenter', 'dragover']) document.body.dispatchEvent(new DragEvent(t, "
                   "{dataTransfer: window.__dt, bubbles: true, cancelable: true}))")
            assert app.js("return !document.getElementById('dropzone').hidden")  # the drop target shows
            app.js("document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: window.__dt, bubbles: true, "
                   "cancelable: true}))")
        else:
            app.js("document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: window.__dt, "
                   "bubbles: true, cancelable: true}))")
        app.wait(lambda: app.js("const d = window.vlagent.state.detail; return !!d && d.ocr && "
                                "d.ocr.text.toLowerCase().includes(arguments[0])", word.split()[0].lower()),
                 90, f"the {how}ped image")
        assert app.js("return document.activeElement.id") == "ask-q"
        assert app.js("return document.getElementById('dropzone').hidden")
        close_detail(app)


# --- the timeline ---------------------------------------------------------------------------------
def test_the_timeline_pages_through_thousands_without_loading_them_all(app):
    from selenium.webdriver.common.keys import Keys

    app.driver.find_element("id", "nav-timeline").click()
    app.wait(lambda: app.js("return document.querySelectorAll('#tl-space .tl-tile[data-id]').length > 20"),
             what="the first thumbnails")
    stats = app.js("return window.vlagent.timeline.stats()")
    total = CORPUS + 20  # the corpus and its facts, the PNGs, the upload
    assert stats["total"] >= CORPUS and stats["total"] < total + 20
    assert stats["tiles"] < 400, stats  # only what is near the viewport
    assert app.driver.find_elements("css selector", ".tl-day")
    assert stats["received"] < stats["total"] / 4, stats  # records of what is on screen, not of everything
    # Scroll through all of it, a screen at a time, then jump to the end.
    height = stats["height"]
    for y in range(0, height, height // 12):
        app.js("document.getElementById('timeline-view').scrollTop = arguments[0]", y)
        app.wait(lambda: app.js("return document.querySelectorAll('#tl-space .tl-row').length > 0"), what="rows")
    app.js("const v = document.getElementById('timeline-view'); v.scrollTop = v.scrollHeight")
    app.wait(lambda: app.js("const t = [...document.querySelectorAll('#tl-space .tl-tile[data-id]')]; "
                            "return t.length > 0"), what="the oldest thumbnails")
    after = app.js("return window.vlagent.timeline.stats()")
    assert after["tiles"] < 400 and after["nodes"] < 3000, after  # the DOM stays bounded
    assert after["cachedItems"] <= 48 * 120, after  # and so do the records kept
    assert after["received"] < after["total"], after  # scrolled past without reading it all
    assert after["requests"] <= after["received"] / 60 + 10, after  # few, well-filled requests
    # Keys: move, open, close.
    app.driver.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
    app.driver.find_element("tag name", "body").send_keys(Keys.ENTER)
    app.wait(lambda: app.js("return !!window.vlagent.state.detail && window.vlagent.state.from === 'timeline'"),
             what="an image opened from the timeline")
    close_detail(app)
    app.driver.find_element("id", "nav-search").click()


# --- languages ----------------------------------------------------------------------------------------
def test_the_page_follows_the_browser_language(app, served):
    c = cookie_of(app, served)
    cookie = {"Cookie": f"{c['name']}={c['value']}"}
    _, _, zh = http("GET", served.url + "/", headers={**cookie, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    _, _, en = http("GET", served.url + "/", headers={**cookie, "Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="zh-CN">' in zh.decode() and "搜索图片中的文字" in zh.decode()
    assert '<html lang="en">' in en.decode() and "Search text in images" in en.decode()
    app.driver.get(served.url + "/?lang=zh")
    app.wait(lambda: app.js("return !!(window.vlagent && window.vlagent.state.booted)"), what="the app")
    assert app.driver.find_element("id", "nav-timeline").text == "时间线"
    assert type_query(app, "猫咪") == ["pets.png"]
    assert "1 个结果" in app.driver.find_element("id", "count").text


# --- the doors ----------------------------------------------------------------------------------------
def test_without_the_cookie_every_page_and_endpoint_refuses(app, served):
    u = served.url
    status, headers, _ = http("GET", u + "/")
    assert status == 303 and headers["location"] == "/login"
    for path in ("/web/api/search?q=zebracorn", "/web/api/image/1", "/web/thumb/1", "/web/image/1",
                 "/web/api/timeline", "/web/api/timeline/items?start=0&end=1", "/web/static/app.js",
                 "/web/static/timeline.js", "/v1/search?q=zebracorn"):
        status, _, body = http("GET", u + path)
        assert status == 401, (path, status, body[:200])
    for path in ("/web/api/ask", "/web/api/memory", "/web/api/upload", "/logout"):
        status, _, _ = http("POST", u + path, data=b"{}", headers={"Content-Type": "application/json"})
        assert status == 401, path
    # A forged or stale cookie is no cookie.
    c = cookie_of(app, served)
    forged = c["value"][:-4] + ("0000" if not c["value"].endswith("0000") else "1111")
    status, _, _ = http("GET", u + "/web/api/search?q=x", headers={"Cookie": f"{c['name']}={forged}"})
    assert status == 401
    # With the cookie: a change of state still needs the page's CSRF token and its own origin.
    cookie = {"Cookie": f"{c['name']}={c['value']}", "Content-Type": "application/json"}
    body = json.dumps({"question": "hello"}).encode()
    status, _, text = http("POST", u + "/web/api/memory", data=body, headers=cookie)
    assert status == 403 and b"csrf" in text
    status, _, text = http("POST", u + "/web/api/memory", data=body,
                           headers={**cookie, "X-CSRF-Token": csrf_of(app), "Origin": "http://evil.example"})
    assert status == 403 and b"cross_site" in text
    # A DNS-rebinding page names its own host: refused whatever it carries.
    status, _, _ = http("GET", u + "/web/api/search?q=x", headers={**cookie, "Host": "evil.example"})
    assert status == 421
    # The login page and its stylesheet are the only things open.
    assert http("GET", u + "/login")[0] == 200
    assert http("GET", u + "/web/static/app.css")[0] == 200


def test_a_cross_site_form_post_is_refused(app, served):
    answers_before = app.js(
        "return fetch('/web/api/image/' + arguments[0]).then(r => r.json()).then(d => d.answers.length)",
        app.js("return window.vlagent.state.hits[0] ? window.vlagent.state.hits[0].id : 1"))
    image_id = app.js("return window.vlagent.state.hits[0] ? window.vlagent.state.hits[0].id : 1")
    page = (f"<form method='post' action='{served.url}/web/api/ask' enctype='text/plain'>"
            f"<input name='{{\"image_id\": {image_id}, \"question\": \"pwned\", \"x\": \"' value='\"}}'></form>"
            "<script>document.forms[0].submit()</script>")
    app.driver.get("data:text/html;charset=utf-8," + urllib.parse.quote(page))
    app.wait(lambda: app.driver.current_url.startswith(served.url), what="the cross-site POST")
    text = app.driver.find_element("tag name", "body").text
    assert "not_signed_in" in text or "cross_site" in text or "csrf" in text, text
    app.driver.get(served.url + "/")
    app.wait(lambda: app.js("return !!(window.vlagent && window.vlagent.state.booted)"), what="the app")
    answers_after = app.js(
        "return fetch('/web/api/image/' + arguments[0]).then(r => r.json()).then(d => d.answers.length)", image_id)
    assert answers_after == answers_before


def test_sign_out_ends_the_session(app, served):
    c = cookie_of(app, served)
    app.driver.find_element("id", "logout").click()
    app.wait(lambda: "/login" in app.driver.current_url, what="the login page")
    status, _, _ = http("GET", served.url + "/web/api/search?q=x", headers={"Cookie": f"{c['name']}={c['value']}"})
    assert status == 401  # revoked on the server, not only forgotten by the browser
    # The API token signs in again on the login page.
    app.driver.find_element("id", "token").send_keys(served.token)
    app.driver.find_element("css selector", "form button").click()
    app.wait(lambda: app.js("return !!(window.vlagent && window.vlagent.state.booted)"), 30, "the app again")
