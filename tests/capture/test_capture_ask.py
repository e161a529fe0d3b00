"""`vlagent capture --full --ask` against the tiny random checkpoint: the answer is streamed to
the terminal and stored with the capture, where search finds the question."""

import json

import pytest

from tests.conftest import cli_env, run_cli

pytestmark = pytest.mark.xvfb

QUESTION = "这张发票的总金额是多少"


@pytest.fixture
def tiny_model(tiny_model_dir):
    return tiny_model_dir


def test_the_answer_is_streamed_and_stored_with_the_capture(shown_pattern, xvfb_display, vlagent_home, cli,
                                                             tiny_model):
    proc = run_cli("capture", "--full", "--ask", QUESTION, "--model", tiny_model, "--vlm-max-new-tokens", "8",
                   "--vlm-max-pixels", str(256 * 28 * 28), "--no-wait",
                   env=cli_env(vlagent_home, DISPLAY=xvfb_display), check=True)
    out = proc.stdout_text
    assert f"Q: {QUESTION}\nA: " in out
    printed = out.split("A: ", 1)[1].strip()
    assert printed
    detail = json.loads(cli("show", "1", "--json", check=True).stdout)
    answers = [r for r in detail["results"] if r["kind"] == "answer"]
    assert len(answers) == 1 and answers[0]["prompt"] == QUESTION and answers[0]["text"] == printed
    assert detail["source"] == "screenshot"
    hits = json.loads(cli("search", "总金额", "--json", check=True).stdout)
    assert [h["id"] for h in hits] == [1]
