"""install-desktop / uninstall-desktop in a temporary XDG home, through the real CLI: the menu
entry, icons, autostart entry and systemd unit are written where the XDG spec says, their
Exec lines start this installation (run back to prove it), a second install changes
nothing, and uninstall removes only what vlagent wrote."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli
from vlagent.resources import resource_path

ICON_SIZES = [16, 22, 32, 48, 64, 128, 256]


@pytest.fixture
def xdg(tmp_path, vlagent_home):
    # A data home with a space and a percent sign: the launchers must quote it.
    home = tmp_path / "my data 100%"
    dirs = {"data": tmp_path / "xdg-data", "config": tmp_path / "xdg-config"}

    def run(*args):
        env = cli_env(home, XDG_DATA_HOME=dirs["data"], XDG_CONFIG_HOME=dirs["config"])
        return run_cli(*args, env=env, timeout=120)

    return dirs | {"home": home, "run": run}


def entry(path: Path) -> dict:
    parser = configparser.RawConfigParser(strict=True, interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def exec_argv(value: str) -> list[str]:
    """Un-escape an Exec= value the way a desktop does (string escapes, then quoting, then %%)."""
    return [a.replace("%%", "%") for a in shlex.split(value.replace("\\\\", "\\"))]


@pytest.mark.skipif(not shutil.which("desktop-file-validate"),
                    reason="desktop-file-validate is not installed (apt: desktop-file-utils; packaging/setup.sh "
                           "installs it)")
def test_the_entries_pass_desktop_file_validate(xdg):
    """Its own test, so that without the tool only this is skipped, not the checks of the others."""
    assert xdg["run"]("install-desktop", "--autostart").returncode == 0
    entries = [xdg["data"] / "applications" / "vlagent.desktop", xdg["config"] / "autostart" / "vlagent.desktop"]
    for path in entries:
        proc = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0 and "error" not in proc.stdout, proc.stdout + proc.stderr


def test_install_writes_a_menu_entry_that_starts_this_installation(xdg):
    proc = xdg["run"]("install-desktop")
    assert proc.returncode == 0, proc.stderr_text
    app = xdg["data"] / "applications" / "vlagent.desktop"
    e = entry(app)
    assert e["Type"] == "Application" and e["Icon"] == "vlagent" and e["Terminal"] == "false"
    assert e["Name"] == "vlagent" and e["GenericName[zh_CN]"] == "图片记忆"
    argv = exec_argv(e["Exec"])
    assert Path(argv[0]).is_absolute() and Path(argv[0]).exists()
    assert argv[-3:] == ["--home", str(xdg["home"]), "gui"]  # the data home chosen with VLAGENT_HOME
    assert exec_argv(e["TryExec"]) == argv[:1]
    # The launcher really is vlagent: run it with --version instead of gui.
    out = subprocess.run([*argv[:-1], "--version"], capture_output=True, text=True, timeout=60,
                         env=cli_env(), cwd="/")
    assert out.stdout.strip().startswith("vlagent "), out.stderr

    icons = xdg["data"] / "icons" / "hicolor"
    assert (icons / "scalable/apps/vlagent.svg").read_bytes() == resource_path("icons", "vlagent.svg").read_bytes()
    for size in ICON_SIZES:
        assert (icons / f"{size}x{size}/apps/vlagent.png").read_bytes() == \
            resource_path("icons", f"vlagent-{size}.png").read_bytes()
    # Only the menu part without flags.
    assert not (xdg["config"] / "autostart").exists()
    assert not (xdg["config"] / "systemd").exists()


def test_install_again_changes_nothing(xdg):
    assert xdg["run"]("install-desktop").returncode == 0
    files = sorted(p for p in xdg["data"].rglob("*") if p.is_file())
    mtimes = [p.stat().st_mtime_ns for p in files]
    again = xdg["run"]("install-desktop")
    assert again.returncode == 0
    lines = again.stdout_text.splitlines()
    assert len(lines) == len(files) == 1 + 1 + len(ICON_SIZES)
    assert all(line.startswith("unchanged ") for line in lines)
    assert [p.stat().st_mtime_ns for p in sorted(p for p in xdg["data"].rglob("*") if p.is_file())] == mtimes


def test_autostart_and_systemd_unit(xdg):
    proc = xdg["run"]("install-desktop", "--autostart", "--systemd")
    assert proc.returncode == 0, proc.stderr_text
    auto = xdg["config"] / "autostart" / "vlagent.desktop"
    argv = exec_argv(entry(auto)["Exec"])
    assert argv[-2:] == ["gui", "--background"] and str(xdg["home"]) in argv

    unit_path = xdg["config"] / "systemd" / "user" / "vlagent-watch.service"
    unit = configparser.RawConfigParser(interpolation=None)
    unit.optionxform = str
    unit.read(unit_path, encoding="utf-8")
    start = shlex.split(unit["Service"]["ExecStart"].replace("%%", "%"))
    assert start[-2:] == ["watch", "--quiet"] and Path(start[0]).is_absolute()
    assert start[start.index("--home") + 1] == str(xdg["home"])
    assert unit["Install"]["WantedBy"] == "default.target"
    assert "systemctl --user enable --now vlagent-watch.service" in proc.stdout_text


def test_uninstall_removes_only_what_vlagent_wrote(xdg):
    assert xdg["run"]("install-desktop", "--autostart", "--systemd").returncode == 0
    apps, auto = xdg["data"] / "applications", xdg["config"] / "autostart"
    foreign = [apps / "other.desktop", xdg["data"] / "icons/hicolor/48x48/apps/other.png", auto / "other.desktop",
               xdg["config"] / "systemd/user/other.service"]
    for f in foreign:
        f.write_text("[Desktop Entry]\nName=someone else's\n")

    only_auto = xdg["run"]("uninstall-desktop", "--autostart")
    assert only_auto.returncode == 0
    assert not (auto / "vlagent.desktop").exists() and (apps / "vlagent.desktop").exists()

    proc = xdg["run"]("uninstall-desktop")
    assert proc.returncode == 0, proc.stderr_text
    assert proc.stdout_text.count("removed ") == 1 + 1 + len(ICON_SIZES) + 1  # entry, svg, pngs, unit
    left = sorted(p for root in (xdg["data"], xdg["config"]) for p in root.rglob("*") if p.is_file())
    assert left == sorted(foreign)
    assert "nothing of vlagent's was installed" in xdg["run"]("uninstall-desktop").stdout_text


def test_a_foreign_entry_is_never_overwritten_or_removed(xdg):
    theirs = xdg["config"] / "autostart" / "vlagent.desktop"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("[Desktop Entry]\nType=Application\nName=vlagent (my own)\nExec=true\n")
    proc = xdg["run"]("install-desktop", "--autostart")
    assert proc.returncode == 1 and "not written by vlagent" in proc.stderr_text
    assert not (xdg["data"] / "applications" / "vlagent.desktop").exists()  # nothing written at all
    assert xdg["run"]("uninstall-desktop").returncode == 0
    assert "my own" in theirs.read_text()


def test_uninstall_removes_the_folders_install_made(xdg):
    assert xdg["run"]("install-desktop", "--autostart", "--systemd").returncode == 0
    assert (xdg["config"] / "systemd" / "user").is_dir() and (xdg["data"] / "icons" / "hicolor").is_dir()
    proc = xdg["run"]("uninstall-desktop")
    assert proc.returncode == 0, proc.stderr_text
    # Nothing is left under the XDG base folders (those themselves stay).
    assert sorted(xdg["data"].rglob("*")) == [] and sorted(xdg["config"].rglob("*")) == []
    assert xdg["data"].is_dir() and xdg["config"].is_dir()
    assert f"deleted the empty folder {xdg['config'] / 'systemd'}" in proc.stdout_text
    assert f"deleted the empty folder {xdg['data'] / 'icons'}" in proc.stdout_text
