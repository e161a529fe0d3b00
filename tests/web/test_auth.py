"""The web face's door without a browser: sessions, the one-time login token, CSRF, Host and
Origin (vlagent.web.auth), the gate in front of the API's guard (vlagent.web.gate), the
language a browser asks for, and the pieces the page is built from."""

from __future__ import annotations

import json
import re
import time

import pytest

from vlagent.web.auth import WebAuth, cookie_name, host_ok, read_cookie, same_origin, split_host
from vlagent.web.i18n import EN, ZH, negotiate

TOKEN = "vla-test-token"


# --- vlagent.web.auth ----------------------------------------------------------------------------
def test_a_login_token_works_once_and_only_the_api_token_signs_in():
    auth = WebAuth(TOKEN)
    one = auth.new_login_token()
    assert auth.spend_login_token(one) and not auth.spend_login_token(one)
    assert not auth.spend_login_token("guess")
    assert auth.api_token_matches(TOKEN) and auth.api_token_matches(f" {TOKEN}\n")
    assert not auth.api_token_matches("vla-other") and not WebAuth(None).api_token_matches("")


def test_sessions_are_signed_expire_and_can_be_revoked():
    auth = WebAuth(TOKEN, session_s=60)
    session, value = auth.new_session()
    assert auth.session(value) == session
    sid, expires, mac = value.split(".")
    assert auth.session(f"{sid}.{int(expires) + 999}.{mac}") is None  # a longer life is a forgery
    assert auth.session(f"{sid}x.{expires}.{mac}") is None
    assert auth.session(value, now=time.time() + 61) is None  # expired
    assert WebAuth("vla-regenerated").session(value) is None  # a new API token ends every session
    assert WebAuth(TOKEN).session(value) == session  # ... and a restart with the same token does not
    for junk in (None, "", "a.b", "a.b.c.d", "a.notanumber.c"):
        assert auth.session(junk) is None
    auth.revoke(session)
    assert auth.session(value) is None


def test_csrf_tokens_belong_to_their_session():
    auth = WebAuth(TOKEN)
    s1, _ = auth.new_session()
    s2, _ = auth.new_session()
    assert auth.csrf_ok(s1, auth.csrf_token(s1))
    assert not auth.csrf_ok(s1, auth.csrf_token(s2))
    assert not auth.csrf_ok(s1, None) and not auth.csrf_ok(s1, "")
    no_auth = WebAuth(None)
    assert no_auth.csrf_ok(None, no_auth.csrf_token(None)) and not no_auth.csrf_ok(None, "x")


def test_host_and_origin_rules():
    assert split_host("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert split_host("[::1]:8765") == ("::1", 8765)
    assert split_host("LOCALHOST") == ("localhost", None)
    for good in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "127.0.0.2:8765"):
        assert host_ok(good, "127.0.0.1", 8765), good
    for bad in ("evil.example:8765", "evil.example", "127.0.0.1:9999", "", None, "192.168.1.5:8765"):
        assert not host_ok(bad, "127.0.0.1", 8765), bad
    assert host_ok("my-box.lan:8765", "0.0.0.0", 8765)  # bound for other machines: its names are theirs
    assert same_origin("http://127.0.0.1:8765", "127.0.0.1:8765")
    assert not same_origin("http://evil.example", "127.0.0.1:8765")
    assert not same_origin("null", "127.0.0.1:8765") and not same_origin(None, "127.0.0.1:8765")
    assert cookie_name(8765) == "vlagent_session_8765"
    assert read_cookie("a=1; vlagent_session_8765=v.1.m; b=2", "vlagent_session_8765") == "v.1.m"
    assert read_cookie("vlagent_session_8766=x", "vlagent_session_8765") is None


# --- languages --------------------------------------------------------------------------------------
def test_the_language_follows_the_browser():
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert negotiate("fr-FR,fr;q=0.9,zh-TW;q=0.5") == "zh"
    assert negotiate("de, en;q=0.1, zh;q=0.2") == "zh"
    assert negotiate("zh;q=0, en") == "en"
    assert negotiate(None) == negotiate("") == negotiate("fr") == "en"
    assert negotiate("zh-CN", "en") == "en" and negotiate("en", "zh_CN") == "zh"
    assert set(EN) == set(ZH)
    for key, text in EN.items():  # the same placeholders in both
        assert sorted(re.findall(r"\{\w+\}", text)) == sorted(re.findall(r"\{\w+\}", ZH[key])), key


# --- pieces of the page -------------------------------------------------------------------------------
def test_snippets_become_segments_and_json_cannot_close_its_script():
    from vlagent.index.snippets import HL_END, HL_START
    from vlagent.web.pages import script_json
    from vlagent.web.routes import segments

    s = f"the {HL_START}total{HL_END} is  42 {HL_START}EUR{HL_END}"
    assert segments(s) == [["the ", False], ["total", True], [" is 42 ", False], ["EUR", True]]
    assert segments("") == [] and segments("plain\ntext") == [["plain text", False]]
    out = script_json({"x": "</script><!-- & \u2028"})
    assert "</" not in out and "<!--" not in out and "&" not in out and json.loads(out)["x"].startswith("</script>")


def test_the_pages_render_in_both_languages():
    from vlagent.web.pages import app_page, login_page

    page = app_page("zh", csrf="c5rf", folders=["/home/u/<pics>"], auth=True)
    assert '<html lang="zh-CN">' in page and 'content="c5rf"' in page and "时间线" in page
    assert "/home/u/&lt;pics&gt;" in page and "<pics>" not in page
    assert "<script>" not in page and "onclick" not in page  # no inline script anywhere (CSP)
    login = login_page("en", message="<b>bad</b>")
    assert "&lt;b&gt;bad&lt;/b&gt;" in login and 'http-equiv="refresh"' not in login
    assert 'http-equiv="refresh"' in login_page("en", message="ok", ok=True)


# --- the gate -------------------------------------------------------------------------------------------
class Echo:
    """Stands for the API's guard: answers with what reached it."""

    async def __call__(self, scope, receive, send):
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = json.dumps({"path": scope["path"], "authorization": headers.get("authorization")}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def gate():
    from vlagent.web.gate import WebGate

    def make(token: str | None = TOKEN):
        auth = WebAuth(token)
        return auth, WebGate(Echo(), auth, token)

    return make


def client(app, host: str = "127.0.0.1:8765"):
    from starlette.testclient import TestClient

    return TestClient(app, base_url=f"http://{host}", follow_redirects=False)


def test_the_gate_lets_a_session_in_and_hands_the_guard_the_api_token(gate):
    auth, app = gate()
    c = client(app)
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert c.get("/web/api/search").status_code == 401
    assert c.get("/web/static/app.js").status_code == 401
    assert c.get("/login").status_code == 200 and c.get("/web/static/app.css").status_code == 200
    # Not a web path: to the guard as it came (it wants the bearer token itself), no web headers.
    r = c.get("/v1/models", headers={"Authorization": "Bearer nope"})
    assert r.json()["authorization"] == "Bearer nope" and "content-security-policy" not in r.headers
    session, value = auth.new_session()
    c.cookies.set(cookie_name(8765), value)
    r = c.get("/web/api/search", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 200 and r.json()["authorization"] == f"Bearer {TOKEN}"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_the_gate_wants_the_csrf_token_and_this_origin_for_changes(gate):
    auth, app = gate()
    c = client(app)
    session, value = auth.new_session()
    c.cookies.set(cookie_name(8765), value)
    csrf = auth.csrf_token(session)
    assert c.post("/web/api/ask", json={}).status_code == 403
    assert c.post("/web/api/ask", json={}, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert c.post("/web/api/ask", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200
    ok = {"X-CSRF-Token": csrf, "Origin": "http://127.0.0.1:8765", "Sec-Fetch-Site": "same-origin"}
    assert c.post("/web/api/ask", json={}, headers=ok).status_code == 200
    assert c.post("/web/api/ask", json={}, headers={**ok, "Origin": "http://evil.example"}).status_code == 403
    assert c.post("/web/api/ask", json={}, headers={**ok, "Origin": "null"}).status_code == 403
    assert c.post("/web/api/ask", json={}, headers={**ok, "Sec-Fetch-Site": "cross-site"}).status_code == 403
    # The login form: from this page only (it has no session to tie a CSRF token to).
    assert c.post("/login", data={"token": TOKEN}).status_code == 403
    assert c.post("/login", data={"token": TOKEN}, headers={"Origin": "http://127.0.0.1:8765"}).status_code == 200
    # The API's own clients send the bearer token: no cookie, no CSRF (a browser never adds that header).
    bare = client(app)
    r = bare.post("/web/api/ask", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200


def test_the_gate_refuses_a_foreign_host(gate):
    auth, app = gate()
    _, value = auth.new_session()
    c = client(app)  # the server listens on 127.0.0.1:8765; a rebinding page names its own host
    c.cookies.set(cookie_name(8765), value)
    assert c.get("/web/api/search").status_code == 200
    assert c.get("/web/api/search", headers={"Host": "evil.example:8765"}).status_code == 421
    assert c.get("/", headers={"Host": "127.0.0.1.nip.io:8765"}).status_code == 421


def test_without_auth_the_page_is_open_but_changes_still_need_its_csrf_token(gate):
    auth, app = gate(None)
    c = client(app)
    r = c.get("/web/api/search")
    assert r.status_code == 200 and r.json()["authorization"] is None  # nothing added: the guard checks Host/Origin
    assert c.post("/web/api/ask", json={}).status_code == 403
    assert c.post("/web/api/ask", json={}, headers={"X-CSRF-Token": auth.csrf_token(None)}).status_code == 200
