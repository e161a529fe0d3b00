"""The bug report of ``vlagent doctor --report``: versions, the doctor's checks, the
settings and the last log lines, as Markdown. Secrets never reach it: secret settings and
settings whose names look secret are redacted, and the API token (a file in the data home)
and anything token-shaped (credentials inside URLs too) are scrubbed from the whole text, log
lines included."""

from __future__ import annotations

import re
import time

from vlagent.diagnostics.logfiles import log_files, tail

LOG_LINES = 200
REDACTED = "***"
SECRET_NAME = re.compile(r"(^|_)(key|token|secret|password|passwd|credentials?)$", re.I)  # not max_new_tokens
TOKEN_SHAPES = [
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1" + REDACTED),
    (re.compile(r"\bvla-[A-Za-z0-9_-]{16,}"), REDACTED),  # the API token's own format
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),  # OpenAI-style keys
    (re.compile(r"(?i)((?:api[_-]?key|token|password)\s*[=:]\s*)[^\s,;&]+"), r"\1" + REDACTED),
    # credentials inside a URL (scheme://user:password@host): in settings and log lines alike
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#]+@"), r"\1" + REDACTED + "@"),
]


def redacted_settings(settings) -> dict:
    out = {}
    for key, value in settings.as_dict(redact=True).items():
        if value and SECRET_NAME.search(key.split(".", 1)[1]) and value != REDACTED:
            value = REDACTED
        out[key] = value
    return out


def _secrets(home, settings) -> list[str]:
    """Exact secret values to scrub: the token files' contents and secret settings."""
    from vlagent.settings import SETTINGS

    found = []
    try:
        found.append(home.api_token_path.read_text(encoding="utf-8", errors="replace").strip())
    except OSError:
        pass
    for s in SETTINGS:
        value = settings.get(s.key)
        if isinstance(value, str) and (s.type == "secret" or SECRET_NAME.search(s.name)):
            found.append(value)
    return [s for s in found if len(s) >= 4]


def scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in TOKEN_SHAPES:
        text = pattern.sub(replacement, text)
    return text


def _fmt(value) -> str:
    return value if isinstance(value, str) else repr(value)


def build(home, settings, checks: dict, *, lines: int = LOG_LINES) -> str:
    """``checks``: what ``vlagent doctor --json`` prints."""
    out = ["# vlagent bug report", "",
           f"Made by `vlagent doctor --report` on {time.strftime('%Y-%m-%d %H:%M:%S %z')}. Secrets and the API "
           "token are redacted; folder names and log lines are not: read it before you share it.", "",
           "## Versions", "", "| | |", "|---|---|"]
    out += [f"| {k} | {checks.get(k)} |" for k in ("vlagent", "python", "platform", "home")]
    out += [f"| {name} | {version or 'not installed'} |" for name, version in checks.get("packages", {}).items()]
    out += ["", "## Checks", ""]
    for name, result in checks.items():
        if isinstance(result, dict) and "ok" in result:
            details = ", ".join(f"{k}={_fmt(v)}" for k, v in result.items() if k != "ok")
            out.append(f"- **{name}**: {'ok' if result['ok'] else 'FAILED'} ({details})")
    out += ["", "## Settings", "", "```"]
    out += [f"{k} = {_fmt(v)}" for k, v in redacted_settings(settings).items()]
    out += ["```", "", "## Logs", ""]
    files = log_files(home)
    if not files:
        out.append(f"(no log files under {home.logs})")
    budget = lines
    for path in files:
        if budget <= 0:
            out.append(f"- {path.name}: {path.stat().st_size} bytes, not included")
            continue
        kept = tail(path, budget)
        budget -= len(kept)
        out += [f"### {path.name} (last {len(kept)} lines)", "", "```", *kept, "```", ""]
    return scrub("\n".join(out) + "\n", _secrets(home, settings))
