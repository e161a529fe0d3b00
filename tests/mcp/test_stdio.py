"""``vlagent mcp`` over stdio, driven by the SDK's own client against a real server process on a
data home with real indexed images and the tiny checkpoint: every tool, the stored answers, and
bad arguments answered as tool errors (the server keeps serving)."""

from __future__ import annotations

import base64
import io
import json

import pytest

from tests.conftest import run_cli
from tests.mcp.conftest import data_of, error_of, stdio_session

TOOLS = {"search_images", "get_image", "ask_image", "ask_memory", "capture_screen"}


@pytest.fixture(scope="module")
def server(indexed_home, tmp_path_factory):
    home, _ = indexed_home
    log = tmp_path_factory.mktemp("mcp-log") / "server.log"
    session = stdio_session(home, log=log)
    yield session
    session.close()
    print(log.read_text(encoding="utf-8", errors="replace")[-4000:])  # shown when a test failed


def test_the_tools_are_listed_with_their_schemas(server):
    tools = {t.name: t for t in server.list_tools().tools}
    assert set(tools) == TOOLS
    assert set(tools["search_images"].input_schema["properties"]) == {"query", "source", "since", "until", "limit"}
    assert tools["search_images"].input_schema.get("required", []) == []
    assert tools["get_image"].input_schema["required"] == ["id"]
    assert sorted(tools["ask_image"].input_schema["required"]) == ["id", "question"]
    assert tools["ask_memory"].input_schema["required"] == ["question"]
    for tool in tools.values():
        assert tool.description and tool.output_schema["type"] == "object", tool.name
    assert tools["search_images"].annotations.read_only_hint is True
    assert tools["get_image"].annotations.read_only_hint is True
    assert tools["ask_image"].annotations.read_only_hint is False  # it stores the answer
    assert tools["ask_image"].annotations.destructive_hint is False
    assert "hits" in tools["search_images"].output_schema["properties"]


def test_search_finds_the_planted_text_with_filters(server, indexed_home):
    _, ids = indexed_home
    found = data_of(server.call("search_images", {"query": "ZEBRAQUOKKA"}))
    assert [h["id"] for h in found["hits"]] == [ids["invoice"]]
    assert found["total"] == 1 and not found["relaxed"]
    hit = found["hits"][0]
    assert hit["path"].endswith("invoice.png") and "ZEBRAQUOKKA" in hit["snippet"]
    assert hit["time"][:2] == "20" and isinstance(hit["score"], float) and not hit["gone"]
    assert [h["id"] for h in data_of(server.call("search_images", {"query": "XYLOPHONE", "since": "1d"}))["hits"]] \
        == [ids["error"]]
    assert data_of(server.call("search_images", {"query": "XYLOPHONE", "until": "2001-01-01"}))["hits"] == []
    assert data_of(server.call("search_images", {"query": "XYLOPHONE", "source": "screenshot"}))["hits"] == []
    newest = data_of(server.call("search_images", {"limit": 1}))
    assert len(newest["hits"]) == 1


def test_get_image_returns_its_text_and_thumbnail(server, indexed_home):
    from PIL import Image

    _, ids = indexed_home
    result = server.call("get_image", {"id": ids["invoice"]})
    record = data_of(result)
    assert record["id"] == ids["invoice"] and record["path"].endswith("invoice.png")
    assert "ZEBRAQUOKKA" in record["ocr_text"] and record["thumbnail"] is True
    assert record["width"] > 0 and record["sha256"] and record["source"]
    images = [c for c in result.content if c.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/jpeg"
    thumb = Image.open(io.BytesIO(base64.b64decode(images[0].data)))
    assert thumb.format == "JPEG" and max(thumb.size) <= 1024


def test_ask_image_answers_and_the_answer_is_stored(server, indexed_home):
    home, ids = indexed_home
    question = "Which port was refused?"
    answer = data_of(server.call("ask_image", {"id": ids["error"], "question": question}, timeout=600))
    assert answer["id"] == ids["error"] and answer["question"] == question and answer["stored"] is True
    assert isinstance(answer["answer"], str) and answer["model"] and answer["engine"]
    shown = json.loads(run_cli("show", str(ids["error"]), "--json", home=home, check=True).stdout_text)
    stored = [r for r in shown["results"] if r["kind"] == "answer" and r["prompt"] == question]
    assert len(stored) == 1 and stored[0]["text"] == answer["answer"]
    # get_image lists it too; a second question reuses the loaded model
    assert question in [a["question"] for a in data_of(server.call("get_image", {"id": ids["error"]}))["answers"]]
    again = data_of(server.call("ask_image", {"id": ids["error"], "question": "What does it say?"}, timeout=120))
    assert again["stored"] is True


def test_ask_memory_answers_with_the_right_source(server, indexed_home):
    home, ids = indexed_home
    result = data_of(server.call("ask_memory", {"question": "What was the total on the ZEBRAQUOKKA invoice?"},
                                 timeout=600))
    assert result["answered"] is True and isinstance(result["answer"], str)
    assert ids["invoice"] in [s["id"] for s in result["sources"]]
    assert result["sources"][0]["id"] == ids["invoice"] and "ZEBRAQUOKKA" in result["sources"][0]["snippet"]
    shown = json.loads(run_cli("show", str(ids["invoice"]), "--json", home=home, check=True).stdout_text)
    assert any(r["kind"] == "answer" and (r["params"] or {}).get("memory") for r in shown["results"])
    nothing = data_of(server.call("ask_memory", {"question": "the QWERTZUIOP receipt"}))
    assert nothing["answered"] is False and nothing["sources"] == [] and nothing["answer"]


def test_capture_is_refused_by_default(server):
    message = error_of(server.call("capture_screen", {}))
    assert "mcp.allow_capture" in message and "vlagent config" in message


@pytest.mark.parametrize("tool, arguments, expected", [
    ("get_image", {"id": 999999}, "there is no image #999999"),
    ("get_image", {"id": 0}, "is not an image id"),
    ("get_image", {"id": "first"}, "id"),
    ("get_image", {}, "id"),
    ("ask_image", {"id": 1, "question": "   "}, "the question is empty"),
    ("ask_image", {"id": 999999, "question": "what?"}, "there is no image #999999"),
    ("ask_memory", {"question": ""}, "the question is empty"),
    ("search_images", {"query": "x", "since": "last blue moon"}, "cannot read the date 'last blue moon'"),
    ("search_images", {"until": "2024-13-45"}, "cannot read the date '2024-13-45' given as until"),
    ("search_images", {"since": "2024-02-01", "until": "2024-01-01"}, "must be before until"),
    ("search_images", {"source": "camera"}, "unknown source 'camera'"),
    ("search_images", {"limit": 0}, "limit must be a whole number from 1 to 50"),
    ("capture_screen", {"monitor": -1}, "mcp.allow_capture"),  # refused before looking at its arguments
    ("no_such_tool", {}, "no_such_tool"),
])
def test_bad_arguments_are_tool_errors(server, tool, arguments, expected):
    assert expected in error_of(server.call(tool, arguments))


def test_the_server_still_serves_after_the_errors(server, indexed_home):
    _, ids = indexed_home
    assert [h["id"] for h in data_of(server.call("search_images", {"query": "ZEBRAQUOKKA"}))["hits"]] \
        == [ids["invoice"]]


def test_the_server_logs_to_its_own_private_file(server, indexed_home):
    import stat

    home, _ = indexed_home
    data_of(server.call("search_images", {"query": "ZEBRAQUOKKA"}))  # the server is up
    log = home / "logs" / "mcp.log"
    assert " mcp started (pid " in log.read_text(encoding="utf-8")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_model_settings_are_flags_of_mcp():
    shown = run_cli("mcp", "--help", check=True).stdout_text
    for flag in ("--vlm-model", "--vlm-prefix-cache-mb", "--vlm-interactive-threads"):
        assert flag in shown
