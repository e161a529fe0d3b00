import argparse

import pytest

from vlagent.settings import SETTINGS, SettingError, Settings
from vlagent.settings.cli_flags import add_setting_flags, apply_setting_flags


def test_defaults_roundtrip_and_only_changes_written(tmp_path):
    path = tmp_path / "config.toml"
    s = Settings.load(path)
    assert s.get("vlm.model") == "Qwen/Qwen2.5-VL-3B-Instruct"
    s.set("vlm.max_new_tokens", "64", save=True)
    s.list_add("watch.folders", ["/data/a", "/data/b"], save=True)
    text = path.read_text()
    assert "max_new_tokens = 64" in text and "[watch]" in text
    assert "model" not in text  # defaults are not written
    again = Settings.load(path)
    assert again.get("vlm.max_new_tokens") == 64
    assert again.get("watch.folders") == ["/data/a", "/data/b"]


@pytest.mark.parametrize("key,value", [("vlm.dtype", "int4"), ("vlm.max_new_tokens", "lots"),
                                       ("vlm.top_p", 1.5), ("vlm.do_sample", "maybe"), ("no.such", 1)])
def test_bad_values_are_refused(tmp_path, key, value):
    with pytest.raises(SettingError):
        Settings.load(tmp_path / "c.toml").set(key, value)


def test_broken_file_falls_back_to_defaults_with_a_problem(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[vlm]\nmax_new_tokens = 'many'\ndtype = 'bfloat16'\n")
    s = Settings.load(path)
    assert s.get("vlm.max_new_tokens") == 256 and s.get("vlm.dtype") == "bfloat16"
    assert any("max_new_tokens" in p for p in s.problems)
    path.write_text("this is = = not toml")
    assert Settings.load(path).problems


def test_cli_flags_derive_from_declaration(tmp_path):
    parser = argparse.ArgumentParser()
    add_setting_flags(parser, "describe")
    args = parser.parse_args(["--model", "/m", "--vlm-dtype", "float32", "--vlm-do-sample", "yes"])
    s = Settings.load(tmp_path / "c.toml")
    apply_setting_flags(s, args)
    assert (s.get("vlm.model"), s.get("vlm.dtype"), s.get("vlm.do_sample")) == ("/m", "float32", True)
    assert not (tmp_path / "c.toml").exists()  # overrides are never saved
    # Every CLI-exposed setting has a flag; no two settings share one.
    flags = [st.flag for st in SETTINGS]
    assert len(flags) == len(set(flags))
