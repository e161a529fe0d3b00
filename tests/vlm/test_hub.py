"""Finding models without the network: resolve_model, the file filter, the on-disk layouts of
vlagent, the Hugging Face cache and the ModelScope cache. (Downloads: tests/cli/test_model_cli.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vlagent.vlm.base import ModelNotAvailable, VlmError
from vlagent.vlm.hub import list_models, remove_model, resolve_model, store

ID = "Qwen/Qwen2.5-VL-3B-Instruct"


@pytest.fixture(autouse=True)
def empty_caches(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    return tmp_path


def write_model(folder: Path, shards: int = 2, vision: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "qwen2_5_vl"} | ({"vision_config": {"depth": 2}} if vision else {})
    (folder / "config.json").write_text(json.dumps(config))
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    for n in names:
        (folder / n).write_bytes(b"\0" * 100)
    weight_map = {f"w{i}": n for i, n in enumerate(names)}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return folder


def test_wanted_keeps_what_transformers_loads_and_nothing_else():
    keep = ["config.json", "model.safetensors", "model-00001-of-00002.safetensors", "model.safetensors.index.json",
            "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "preprocessor_config.json",
            "chat_template.json", "chat_template.jinja", "generation_config.json", "video_preprocessor_config.json"]
    drop = ["pytorch_model.bin", "model.gguf", "onnx/model.safetensors", "README.md", ".gitattributes",
            "flax_model.msgpack", "original/consolidated.safetensors", "figures/demo.png"]
    assert [n for n in keep if store.wanted(n)] == keep
    assert [n for n in drop if store.wanted(n)] == []


def test_local_folder_is_returned_as_is(tmp_path, home):
    folder = write_model(tmp_path / "my model")
    assert resolve_model(str(folder), home=home) == folder.resolve()


def test_folder_without_config_and_missing_path_say_what_is_wrong(tmp_path, home):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailable, match=r"empty has no config\.json; pass the folder that holds"):
        resolve_model(str(tmp_path / "empty"), home=home)
    with pytest.raises(ModelNotAvailable, match=r"there is no model folder at .*nowhere, and .* is not a hub id"):
        resolve_model(str(tmp_path / "nowhere"), home=home)


def test_missing_hub_id_names_the_command_to_run(home, settings):
    with pytest.raises(ModelNotAvailable) as e:
        resolve_model(ID, home=home)
    assert str(e.value) == f"model {ID} is not downloaded; run: vlagent model pull {ID} (or --hub modelscope)"
    settings.set("vlm.hub", "modelscope")
    with pytest.raises(ModelNotAvailable) as e:
        resolve_model(ID, home=home, settings=settings)
    assert str(e.value) == (f"model {ID} is not downloaded; run: vlagent model pull {ID} --hub modelscope "
                            f"(or --hub huggingface)")


def test_own_folder_counts_only_when_the_pull_finished(home):
    folder = write_model(home.models / "Qwen--Qwen2.5-VL-3B-Instruct")
    manifest = store.new_manifest(ID, "huggingface", None)
    store.write_manifest(folder, manifest)
    with pytest.raises(ModelNotAvailable, match="is not finished"):
        resolve_model(ID, home=home)
    manifest["complete"] = True
    store.write_manifest(folder, manifest)
    assert resolve_model(ID, home=home) == folder
    (folder / "model-00002-of-00002.safetensors").unlink()  # a shard the index names went missing
    with pytest.raises(ModelNotAvailable, match="is not finished"):
        resolve_model(ID, home=home)


def test_folder_copied_by_hand_into_models_is_found(home):
    folder = write_model(home.models / "Qwen--Qwen2.5-VL-3B-Instruct", shards=1)
    assert resolve_model(ID, home=home) == folder


def test_huggingface_cache_layout_is_found_offline(empty_caches, home):
    storage = empty_caches / "hf-cache" / "models--Qwen--Qwen2.5-VL-3B-Instruct"
    commit = "a" * 40
    snap = write_model(storage / "snapshots" / commit)
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(commit)
    assert resolve_model(ID, home=home) == snap
    [entry] = list_models(home)
    assert entry["source"] == "huggingface-cache" and entry["bytes"] > 200


@pytest.mark.parametrize("layout", ["models/Qwen--Qwen2.5-VL-3B-Instruct/snapshots/master",
                                    "models/Qwen/Qwen2___5-VL-3B-Instruct",
                                    "hub/models/Qwen/Qwen2___5-VL-3B-Instruct",
                                    "hub/Qwen/Qwen2___5-VL-3B-Instruct"])
def test_modelscope_cache_layouts_old_and_new_are_found(empty_caches, home, layout):
    folder = write_model(empty_caches / "ms-cache" / layout)
    assert resolve_model(ID, home=home) == folder


def test_incomplete_cache_snapshot_is_not_used(empty_caches, home):
    storage = empty_caches / "hf-cache" / "models--Qwen--Qwen2.5-VL-3B-Instruct"
    snap = storage / "snapshots" / ("b" * 40)
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")  # e.g. left by AutoConfig: no weights
    with pytest.raises(ModelNotAvailable, match="is not downloaded"):
        resolve_model(ID, home=home)


def test_list_marks_the_configured_model_and_skips_text_only_cache_entries(empty_caches, home, settings):
    write_model(home.models / "Qwen--Qwen2.5-VL-3B-Instruct")
    write_model(home.models / "Qwen--Qwen2.5-VL-7B-Instruct")
    bert = empty_caches / "hf-cache" / "models--google--bert" / "snapshots" / ("c" * 40)
    write_model(bert, vision=False)
    models = {m["id"]: m for m in list_models(home, settings)}
    assert set(models) == {ID, "Qwen/Qwen2.5-VL-7B-Instruct"}
    assert models[ID]["configured"] and not models["Qwen/Qwen2.5-VL-7B-Instruct"]["configured"]


def test_remove_deletes_only_vlagent_folders(empty_caches, home):
    folder = write_model(home.models / "Qwen--Qwen2.5-VL-3B-Instruct")
    assert remove_model(ID, home=home) == folder and not folder.exists()
    with pytest.raises(VlmError, match="no model"):
        remove_model(ID, home=home)
    with pytest.raises(VlmError, match="no model"):
        remove_model("../../etc", home=home)
    write_model(empty_caches / "ms-cache" / "hub" / "models" / "Qwen" / "Qwen2___5-VL-3B-Instruct")
    with pytest.raises(VlmError, match="modelscope cache at .* which vlagent does not manage"):
        remove_model(ID, home=home)


def test_pull_refuses_a_non_empty_foreign_folder_before_any_network(tmp_path, home):
    from vlagent.vlm.hub import PullError, pull

    target = tmp_path / "docs"
    target.mkdir()
    (target / "thesis.txt").write_text("do not mix model files in here")
    with pytest.raises(PullError, match="is not empty and holds no model pulled by vlagent"):
        pull(ID, home=home, to=target)
    with pytest.raises(PullError, match="is not a hub model id"):
        pull("not an id", home=home)


def test_network_reason_reads_the_whole_exception_chain():
    from vlagent.vlm.hub.errors import is_network_error, network_reason

    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("Max retries exceeded") from inner
    except RuntimeError as e:
        assert network_reason(e) == "connection refused"
    assert is_network_error(TimeoutError()) and not is_network_error(ValueError())
