"""``vlagent doctor --report``: versions, checks, settings and the last log lines in one
Markdown file, with the API token and secret settings nowhere in it."""

from __future__ import annotations

import re

from vlagent import __version__

TOKEN = "vla-" + "Zq9" * 15
API_KEY = "sk-" + "remote-key-" * 3


def test_report_has_versions_settings_and_logs_but_no_secrets(cli, vlagent_home, tmp_path):
    assert cli("config", "vlm.openai_api_key", API_KEY).returncode == 0
    assert cli("config", "vlm.max_new_tokens", "321").returncode == 0
    (vlagent_home / "api-token").write_text(TOKEN + "\n")
    logs = vlagent_home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    lines = [f"2026-01-01 00:00:{i % 60:02d},000 1 MainThread INFO vlagent.x: event {i}" for i in range(300)]
    lines[-5] += f" client sent Authorization: Bearer {TOKEN}"
    lines[-4] += f" token {TOKEN} in a message"
    (logs / "watch.log").write_text("\n".join(lines) + "\n")

    out = tmp_path / "report.md"
    proc = cli("doctor", "--quick", "--report", out)
    assert proc.returncode == 0, proc.stderr_text
    assert str(out) in proc.stdout_text
    text = out.read_text(encoding="utf-8")
    assert TOKEN not in text and "Zq9Zq9" not in text
    assert API_KEY not in text and "remote-key" not in text
    assert "vlm.openai_api_key = ***" in text
    assert "vlm.max_new_tokens = 321" in text  # a setting whose name merely contains "token" stays
    assert f"| vlagent | {__version__} |" in text and re.search(r"\| python \| 3\.\d+", text)
    assert re.search(r"\| PySide6-Essentials \| 6\.", text)
    assert "- **index**: ok" in text
    # The last 200 log lines, the newest included, the older ones not.
    assert "### watch.log (last 200 lines)" in text
    assert "event 299" in text and "event 100\n" in text and "event 99\n" not in text
    assert "Bearer ***" in text


def test_report_default_goes_to_the_logs_folder(cli, vlagent_home):
    proc = cli("doctor", "--quick", "--report")
    assert proc.returncode == 0, proc.stderr_text
    reports = list((vlagent_home / "logs").glob("report-*.md"))
    assert len(reports) == 1 and str(reports[0]) in proc.stdout_text
    assert "(no log files under" in reports[0].read_text()


def test_report_redacts_credentials_inside_urls(cli, vlagent_home, tmp_path):
    url = "http://alice:s3cr3t-pw@gpu-box.lan:8000/v1"
    assert cli("config", "vlm.openai_base_url", url).returncode == 0
    logs = vlagent_home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "serve.log").write_text("2026-01-01 00:00:00,000 1 MainThread WARNING vlagent.vlm: cannot reach "
                                    "https://bob:hunter2@proxy.example:3128/models (refused)\n")
    out = tmp_path / "report.md"
    proc = cli("doctor", "--quick", "--report", out)
    assert proc.returncode == 0, proc.stderr_text
    text = out.read_text(encoding="utf-8")
    for secret in ("s3cr3t-pw", "alice", "hunter2", "bob:"):
        assert secret not in text
    assert "vlm.openai_base_url = http://***@gpu-box.lan:8000/v1" in text  # where it points stays readable
    assert "cannot reach https://***@proxy.example:3128/models (refused)" in text
