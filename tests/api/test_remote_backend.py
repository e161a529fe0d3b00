"""The remote backend end to end: ``vlagent index --describe --vlm-backend openai`` in its
own data home, sending its images to the session's ``vlagent serve``."""

from __future__ import annotations

import sqlite3

import httpx

from tests.api.conftest import write_config
from tests.conftest import run_cli
from vlagent.samples import photo_like, text_image


def remote_flags(server, model_name):
    return ["--vlm-backend", "openai", "--vlm-openai-base-url", server.base, "--vlm-openai-model", model_name,
            "--vlm-max-new-tokens", "6"]


def client_home(tmp_path, key: str):
    home = tmp_path / "client-home"
    write_config(home, {"vlm": {"openai_api_key": key, "openai_retries": 1}, "general": {"language": "en"}})
    return home


def folder(tmp_path):
    d = tmp_path / "pictures"
    d.mkdir()
    text_image(["Flight CA1234 boards at gate 23"], font_size=28).save(d / "boarding.png")
    photo_like(640, 480, seed=11).save(d / "beach.jpg")
    text_image(["系统设置已保存"], font_size=30).save(d / "settings.png")
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return d


def rows(home, sql):
    conn = sqlite3.connect(home / "index.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def server_image_count(server) -> int:
    return len(httpx.get(f"{server.base}/search", params={"q": "", "limit": 200}, headers=server.auth()).json()["data"])


def test_index_a_folder_through_the_remote_server(server, model_name, tmp_path):
    home = client_home(tmp_path, server.token)
    before = server_image_count(server)
    proc = run_cli("index", folder(tmp_path), "--describe", "--no-ocr", "--json", *remote_flags(server, model_name),
                   home=home)
    assert proc.returncode == 23, proc.stderr_text  # partial: the broken file failed (documented exit status)
    import json

    summary = json.loads(proc.stdout_text)
    assert summary["new"] == 3 and summary["failed"] == 1  # the broken file is recorded, the rest go on
    assert summary["jobs"] == {"describe_done": 3} and summary["job_failures"] == []
    stored = rows(home, "SELECT engine, model, text, timings FROM results WHERE kind = 'description'")
    assert len(stored) == 3
    for engine, model, text, timings in stored:
        assert engine == "openai" and model == model_name and text
        t = json.loads(timings)
        assert t["new_tokens"] >= 1 and t["input_tokens"] > t["new_tokens"] and t["upload_bytes"] > 0
        assert t["remote"]["visual_tokens"] > 0  # the serving vlagent's own timings come back too
    # The server answered as a model server: the client's pictures are not in the server's index.
    assert server_image_count(server) == before


def test_a_wrong_key_fails_the_job_with_a_clear_reason(server, model_name, tmp_path):
    home = client_home(tmp_path, "vla-wrong")
    proc = run_cli("index", folder(tmp_path), "--describe", "--no-ocr", *remote_flags(server, model_name), home=home)
    assert proc.returncode == 23  # files and jobs failed: the partial status
    assert "refused the API key (HTTP 401); check vlm.openai_api_key" in proc.stderr_text
    jobs = rows(home, "SELECT state, error FROM jobs WHERE kind = 'describe'")
    assert len(jobs) == 3 and all(state == "failed" and "refused the API key" in error for state, error in jobs)
    assert rows(home, "SELECT count(*) FROM results") == [(0,)]


def test_an_unknown_model_name_is_a_clear_error(server, tmp_path):
    home = client_home(tmp_path, server.token)
    image = tmp_path / "one.png"
    text_image(["hello"], font_size=24).save(image)
    proc = run_cli("describe", image, "--no-store", "--vlm-backend", "openai", "--vlm-openai-base-url", server.base,
                   "--vlm-openai-model", "no-such-model", home=home)
    assert proc.returncode == 1
    assert "does not serve the model 'no-such-model'" in proc.stderr_text
