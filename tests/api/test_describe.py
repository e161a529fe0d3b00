"""``POST /v1/describe`` (multipart upload → OCR + description, indexed with source api),
then finding the image again: ``/v1/search``, ``/v1/images/{id}`` and its thumbnail."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.api.conftest import png_bytes
from vlagent.samples import text_image


def upload(server, data: bytes, name: str = "upload.png", prompt: str | None = None) -> httpx.Response:
    return httpx.post(f"{server.base}/describe", files={"file": (name, data, "image/png")},
                      data={"prompt": prompt} if prompt else None, headers=server.auth(), timeout=120)


@pytest.fixture(scope="module")
def described(server):
    data = png_bytes(text_image(["Quarterly revenue report", "季度营收报告"], font_size=36))
    r = upload(server, data, "report.png")
    assert r.status_code == 200, r.text
    return data, r.json()


def test_describe_returns_description_ocr_and_timings(described, tiny_model_dir):
    _, body = described
    assert body["object"] == "image.description" and body["status"] == "new"
    assert "Quarterly" in body["ocr_text"] and "季度营收报告" in body["ocr_text"]
    assert body["description"] and body["engine"] == "transformers"
    assert body["model"] == str(tiny_model_dir)
    t = body["timings"]
    assert t["total_ms"] >= t["ingest_ms"] > 0 and t["ocr_ms"] > 0
    assert t["model"]["new_tokens"] >= 1 and t["model"]["visual_tokens"] > 0


def test_the_described_image_is_searchable_and_readable(server, described):
    _, body = described
    image_id = body["image_id"]
    for query in ("Quarterly", "revenue", "营收"):
        r = httpx.get(f"{server.base}/search", params={"q": query}, headers=server.auth())
        assert r.status_code == 200
        hits = r.json()["data"]
        assert image_id in [h["image_id"] for h in hits], (query, hits)
    hit = next(h for h in hits if h["image_id"] == image_id)
    assert hit["source"] == "api" and hit["thumbnail_url"] == f"/v1/images/{image_id}/thumbnail"

    record = httpx.get(f"{server.base}/images/{image_id}", headers=server.auth()).json()
    assert record["source"] == "api" and record["sha256"] == body["sha256"]
    assert record["description"] == body["description"] and record["ocr_text"] == body["ocr_text"]
    assert {r["kind"] for r in record["results"]} == {"ocr", "description"}
    assert all(j["state"] == "done" for j in record["jobs"])
    assert record["path"].startswith(str(server.home / "captures" / "api"))

    thumb = httpx.get(server.url + hit["thumbnail_url"], headers=server.auth())
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(thumb.content))
    assert img.format == "JPEG" and max(img.size) <= 320


def test_search_filters_sorting_and_relaxed_matches(server, described):
    image_id = described[1]["image_id"]

    def ids(**params):
        r = httpx.get(f"{server.base}/search", params=params, headers=server.auth())
        assert r.status_code == 200, r.text
        return r.json()

    assert image_id in [h["image_id"] for h in ids(q="Quarterly", source="api", sort="date")["data"]]
    assert ids(q="Quarterly", source="folder") == {"object": "list", "query": "Quarterly", "total": 0,
                                                   "total_exact": True, "relaxed": False, "data": []}
    assert ids(q="Quarterly zebra")["data"] == []  # every word must match…
    loose = ids(q="Quarterly zebra", relax=True)  # …unless the caller accepts some of them
    assert loose["relaxed"] and image_id in [h["image_id"] for h in loose["data"]]
    r = httpx.get(f"{server.base}/search", params={"q": "x", "source": "disk"}, headers=server.auth())
    assert r.status_code == 400 and r.json()["error"]["param"] == "source"


def test_the_same_upload_again_reuses_its_results(server, described):
    data, first = described
    again = upload(server, data, "copy.png")
    assert again.status_code == 200
    body = again.json()
    assert body["image_id"] == first["image_id"] and body["status"] != "new"
    assert body["description"] == first["description"] and body["ocr_text"] == first["ocr_text"]


def test_describe_with_a_prompt_stores_the_answer(server):
    data = png_bytes(text_image(["Meeting at 10:30", "Room 4B"], font_size=32))
    r = upload(server, data, "meeting.png", prompt="Where is the meeting?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] and body["prompt"] == "Where is the meeting?"
    assert "Room" in body["ocr_text"]
    record = httpx.get(f"{server.base}/images/{body['image_id']}", headers=server.auth()).json()
    answers = [x for x in record["results"] if x["kind"] == "answer"]
    assert [(a["prompt"], a["text"]) for a in answers] == [("Where is the meeting?", body["description"])]


def test_bad_uploads_are_clear_errors(server):
    r = upload(server, b"this is not an image at all", "notes.png")
    assert r.status_code == 400 and r.json()["error"]["code"] == "not_an_image"
    r = upload(server, b"", "empty.png")
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty"
    r = httpx.post(f"{server.base}/describe", headers=server.auth())
    assert r.status_code == 400 and r.json()["error"]["param"] == "file"


def test_unknown_images_are_404_and_impossible_ids_400(server):
    for path in ("/images/999999", "/images/999999/thumbnail"):
        r = httpx.get(server.base + path, headers=server.auth())
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    for path, param in (("/images/99999999999999999999999", "image_id"), ("/images/0/thumbnail", "image_id"),
                        ("/search?q=x&limit=0", "limit"), ("/search?q=x&offset=9223372036854775000", "offset")):
        r = httpx.get(server.base + path, headers=server.auth())
        assert r.status_code == 400 and r.json()["error"]["param"] == param, r.text


# --- every input kind of the batch operator, with per-request knobs -----------------------------
def test_describe_takes_json_base64_and_a_raw_body_and_repeats_no_input(server):
    import base64

    data = png_bytes(text_image(["Parcel 7731 delivered", "包裹已送达"], font_size=30))
    b64 = base64.b64encode(data).decode()
    url = f"{server.base}/describe"
    bodies = [{"json": {"image_base64": b64}}, {"json": {"image": b64}},
              {"json": {"image_url": "data:image/png;base64," + b64}},
              {"content": data, "headers": {"Content-Type": "image/png"}}]
    answers = []
    for kw in bodies:
        headers = {**server.auth(), **kw.pop("headers", {})}
        r = httpx.post(url, headers=headers, timeout=120, **kw)
        assert r.status_code == 200, r.text
        assert b64[:40] not in r.text  # the output repeats no input
        answers.append(r.json())
    assert len({a["image_id"] for a in answers}) == 1 and "Parcel" in answers[0]["ocr_text"]
    assert all(a["description"] == answers[0]["description"] for a in answers)  # made once, then reused


def test_describe_knobs_apply_per_request(server):
    data = png_bytes(text_image(["Knobs 1234"], font_size=30))
    r = httpx.post(f"{server.base}/describe", headers=server.auth(), timeout=120,
                   files={"file": ("k.png", data, "image/png")},
                   data={"max_new_tokens": "3", "max_pixels": str(16 * 28 * 28), "temperature": "0"})
    assert r.status_code == 200, r.text
    body = r.json()
    model = body["timings"]["model"]
    assert model["new_tokens"] <= 3 and model["visual_tokens"] <= 16
    record = httpx.get(f"{server.base}/images/{body['image_id']}", headers=server.auth()).json()
    described = [x for x in record["results"] if x["kind"] == "description"]
    assert described and described[-1]["text"] == body["description"]
    assert described[-1]["params"]["max_new_tokens"] == 3
    # JSON knobs are typed; query parameters ride along with a raw body.
    r = httpx.post(f"{server.base}/describe", headers={**server.auth(), "Content-Type": "image/png"}, content=data,
                   params={"max_tokens": "2", "resized_height": "56", "resized_width": "56"}, timeout=120)
    assert r.status_code == 200 and r.json()["timings"]["model"]["visual_tokens"] == 4


@pytest.mark.parametrize("kw,param", [
    ({"json": {"image": "/etc/passwd"}}, "image"),
    ({"json": {"image_url": "file:///etc/passwd"}}, "image_url"),
    ({"json": {"image_base64": "~/secret.png"}}, "image_base64"),
    ({"json": {"image_url": "data:image/png;base64,AAAA", "image": "x"}}, "image_url"),
    ({"json": {"image_base64": "iVBORw0KGgoAAAANSUhEUg==", "colour": "red"}}, "colour"),
    ({"json": {"image_base64": "iVBORw0KGgoAAAANSUhEUg==", "max_new_tokens": "lots"}}, "max_new_tokens"),
    ({"files": {"file": ("a.png", b"x", "image/png")}, "data": {"detail": "high"}}, "detail"),
    ({"files": {"picture": ("a.png", b"x", "image/png")}}, "picture"),
    ({"content": b"just text", "headers": {"Content-Type": "text/plain"}}, None),
])
def test_describe_inputs_that_are_refused(server, kw, param):
    headers = {**server.auth(), **kw.pop("headers", {})}
    r = httpx.post(f"{server.base}/describe", headers=headers, timeout=60, **kw)
    assert r.status_code in (400, 415), r.text
    if param is not None:
        assert r.json()["error"]["param"] == param, r.text
