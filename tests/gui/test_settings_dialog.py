"""The settings dialog is generated from the declaration; changes are saved to config.toml
and reach subscribers at once."""

from __future__ import annotations

import tomllib
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QListWidget, QPlainTextEdit, QSpinBox

from vlagent.settings import SETTINGS, Settings


def make_dialog(qtbot, home, settings):
    from vlagent.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(settings, home)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_every_declared_setting_has_an_editor_of_its_type_in_its_sections_tab(qtbot, home, settings):
    dialog = make_dialog(qtbot, home, settings)
    assert set(dialog.fields) == {s.key for s in SETTINGS}
    widget_for = {"bool": QCheckBox, "int": QSpinBox, "float": QDoubleSpinBox, "choice": QComboBox,
                  "list": QListWidget}
    for s in SETTINGS:
        field = dialog.fields[s.key]
        assert field.value() == s.default, s.key
        if s.type in widget_for:
            assert field.findChild(widget_for[s.type]) is not None, s.key
        tab = dialog.tabs.widget(dialog.tab_of[s.section])
        assert tab.isAncestorOf(field), s.key
    spin = dialog.fields["api.port"].spin
    assert (spin.minimum(), spin.maximum()) == (1, 65535)
    combo = dialog.fields["vlm.dtype"].combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["auto", "bfloat16", "float16", "float32"]
    assert isinstance(dialog.fields["vlm.prompt_describe"].edit, QPlainTextEdit)
    assert str(home.root) in [w.text() for w in dialog.findChildren(type(dialog.fields["vlm.model"].edit))]


def test_ok_saves_changes_to_config_toml_and_notifies_subscribers(qtbot, home, settings, tmp_path):
    heard = []
    settings.subscribe(lambda key, value: heard.append((key, value)))
    dialog = make_dialog(qtbot, home, settings)
    folder = tmp_path / "Pictures"
    folder.mkdir()
    dialog.fields["watch.folders"].add_items([str(folder)])
    dialog.fields["privacy.paused"].set_value(True)
    dialog.fields["vlm.max_new_tokens"].set_value(64)
    dialog.fields["vlm.dtype"].set_value("bfloat16")
    dialog.fields["vlm.prompt_describe"].set_value("描述这张图片")
    dialog.accept()
    saved = tomllib.loads(home.config_path.read_text(encoding="utf-8"))
    assert saved["watch"]["folders"] == [str(folder)]
    assert saved["privacy"]["paused"] is True
    assert saved["vlm"] == {"max_new_tokens": 64, "dtype": "bfloat16", "prompt_describe": "描述这张图片"}
    assert ("privacy.paused", True) in heard and ("vlm.max_new_tokens", 64) in heard
    assert Settings.load(home.config_path).get("watch.folders") == [str(folder)]
    assert dialog.result() == dialog.DialogCode.Accepted


def test_unchanged_settings_are_not_written_and_cancel_saves_nothing(qtbot, home, settings):
    dialog = make_dialog(qtbot, home, settings)
    assert dialog.pending_changes() == {}
    dialog.fields["api.port"].set_value(9000)
    dialog.reject()
    assert not home.config_path.exists()
    assert settings.get("api.port") == 8765


def test_restore_defaults_resets_only_the_current_tab(qtbot, home, settings):
    settings.set("vlm.max_new_tokens", 32, save=True)
    settings.set("api.port", 9999, save=True)
    dialog = make_dialog(qtbot, home, settings)
    dialog.tabs.setCurrentIndex(dialog.tab_of["vlm"])
    dialog.restore_tab_defaults()
    assert dialog.fields["vlm.max_new_tokens"].value() == 256
    assert dialog.fields["api.port"].value() == 9999
    dialog.apply()
    saved = tomllib.loads(home.config_path.read_text(encoding="utf-8"))
    assert "vlm" not in saved and saved["api"]["port"] == 9999


def test_a_bad_value_is_reported_and_nothing_is_saved(qtbot, home, settings):
    dialog = make_dialog(qtbot, home, settings)
    dialog.fields["vlm.max_new_tokens"].set_value(64)
    dialog.fields["general.language"].combo.addItem("klingon", "tlh")  # not a declared choice
    dialog.fields["general.language"].set_value("tlh")
    assert dialog.apply() is False
    assert "general.language" in dialog.message.text()
    assert dialog.tabs.currentIndex() == dialog.tab_of["general"]
    assert not home.config_path.exists()
    assert settings.get("vlm.max_new_tokens") == 256
