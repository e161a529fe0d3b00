"""The API when its data home is deleted under it: a 503 that says the index is gone (never a
500 or a hang), and no second index quietly made in its place."""

from __future__ import annotations

import shutil

import httpx

from tests.watch.util import wait_for


def test_requests_get_a_clear_503_and_no_new_index_appears(home, settings, tmp_path):
    from vlagent.api.errors import ApiError
    from vlagent.api.server import ApiServer
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.samples import text_image
    from vlagent.worker import Agent

    settings.override("ocr.enabled", False)
    image = tmp_path / "shot.png"
    text_image(["receipt"], font_size=24).save(image)
    index = Index.open(home)
    try:
        image_id = Ingestor(index, settings, home).ingest_path(str(image)).image_id
    finally:
        index.close()

    agent = Agent(home, settings, folders=[], worker_kwargs={"engine": None}).start()
    server = ApiServer(agent, port=0).start()
    auth = {"Authorization": f"Bearer {server.token}"}
    try:
        assert httpx.get(f"{server.url}/v1/images/{image_id}", headers=auth, timeout=30).status_code == 200

        shutil.rmtree(home.root)
        for path in (f"/v1/images/{image_id}", "/v1/search?q=receipt", f"/v1/images/{image_id}/thumbnail"):
            r = httpx.get(server.url + path, headers=auth, timeout=30)
            assert r.status_code == 503, (path, r.text)
            error = r.json()["error"]
            assert error["code"] == "index_gone" and "is gone" in error["message"], error
        # What /v1/describe does with an upload (it needs a model to get this far).
        try:
            server.service.queue_upload(image.read_bytes(), "shot.png", [])
        except ApiError as e:
            assert e.status == 503 and e.code == "index_gone"
        else:
            raise AssertionError("an upload was indexed into a deleted home")
        assert not home.root.exists(), "an upload made a new data home and index"
        wait_for(lambda: not agent.worker.running, timeout=30, what="the worker to stop")
        r = httpx.get(f"{server.url}/v1/search?q=receipt", headers=auth, timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "index_gone"
        assert not home.root.exists(), "a request made a new data home"
    finally:
        assert server.stop()
        agent.stop()
    assert not home.root.exists()
