"""The web face of ``vlagent serve --no-auth``: the page opens without signing in, the API guard's
Host/Origin rules hold for it, and a change (an upload) still needs the page's CSRF token. No model is
loaded (a remote backend that is never called): this is about the door."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import write_config
from tests.conftest import cli_env
from tests.web.browser import Browser, missing_reason, start_serve
from tests.web.test_web import http

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("web-no-auth") / "home"
    write_config(home, {"general": {"language": "en"},
                        "vlm": {"backend": "openai", "openai_base_url": "http://127.0.0.1:9/v1", "openai_model": "x"}})
    s = start_serve(home, "--no-auth", env=cli_env(home))
    yield s
    assert s.stop() == 0, s.log.read_text()


@pytest.fixture(scope="module")
def page(open_server):
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    b = Browser(width=1200, height=800)
    yield b
    b.quit()


def test_without_auth_the_page_opens_but_only_for_this_machine(open_server, page, tmp_path):
    from vlagent.samples import text_image

    u = open_server.url
    assert open_server.login == u + "/"  # nothing to sign in with
    page.driver.get(open_server.login)
    page.wait(lambda: page.js("return !!(window.vlagent && window.vlagent.state.booted)"), 30, "the app")
    assert page.js("return document.getElementById('logout').hidden")
    path = tmp_path / "open.png"
    text_image(["Capybara 789"]).save(path)
    page.driver.find_element("id", "file").send_keys(str(path))  # a POST from the page: its CSRF token goes along
    page.wait(lambda: page.js("const d = window.vlagent.state.detail; return !!d && d.ocr && "
                              "d.ocr.text.includes('Capybara')"), 90, "the upload")
    # Another Host (DNS rebinding) or a foreign page: the API's guard refuses, web paths included.
    assert http("GET", u + "/web/api/search?q=x", headers={"Host": "evil.example"})[0] == 403
    assert http("GET", u + "/", headers={"Host": "evil.example"})[0] == 403
    status, _, _ = http("POST", u + "/web/api/memory", data=json.dumps({"question": "x"}).encode(),
                        headers={"Content-Type": "application/json", "Origin": "http://evil.example"})
    assert status == 403
    # This machine without the page's token: a change is refused all the same.
    status, _, body = http("POST", u + "/web/api/memory", data=json.dumps({"question": "x"}).encode(),
                           headers={"Content-Type": "application/json"})
    assert status == 403 and b"csrf" in body
    assert http("GET", u + "/web/api/search?q=capybara")[0] == 200
