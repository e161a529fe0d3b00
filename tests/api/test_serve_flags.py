"""``vlagent serve`` takes vLLM's flags with the same names and meaning, and refuses those that
mean nothing here with one sentence (not silently ignored)."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


def options(*argv):
    from vlagent.cli.cmd_serve import serve_options
    from vlagent.cli.main import build_parser
    from vlagent.settings import Settings

    args = build_parser().parse_args(["serve", *argv])
    settings = Settings(None)
    return serve_options(settings, args), settings, args


def test_vllm_flags_map_to_settings_and_options():
    opts, settings, _ = options("Qwen/Qwen2.5-VL-7B-Instruct", "--served-model-name", "qwen-vl", "gpt-4-vision",
                                "--api-key", "EMPTY", "--dtype", "half", "--max-model-len", "32k",
                                "--limit-mm-per-prompt", '{"image": 3, "video": 0}', "--max-num-seqs", "8",
                                "--mm-processor-kwargs", '{"max_pixels": 501760}', "--no-enable-prefix-caching",
                                "--override-generation-config", '{"temperature": 0.3, "max_new_tokens": 300}')
    v = settings.view.vlm
    assert v.model == "Qwen/Qwen2.5-VL-7B-Instruct" and v.dtype == "float16" and v.batch_size == 8
    assert v.max_pixels == 501760 and v.prefix_cache_mb == 0 and v.do_sample and v.temperature == 0.3
    assert opts.served_model_names == ["qwen-vl", "gpt-4-vision"] and opts.api_key == "EMPTY"
    assert opts.max_model_len == 32000 and opts.max_images == 3 and opts.max_tokens_cap == 300
    assert options("--limit-mm-per-prompt", "image=2")[0].max_images == 2
    assert options("--max-model-len", "4K")[0].max_model_len == 4096
    assert options("--dtype", "float", "--model", "/m", "/m")[1].view.vlm.dtype == "float32"


@pytest.mark.parametrize("argv,message", [
    (["--limit-mm-per-prompt", "video=1"], "videos are not supported"),
    (["--limit-mm-per-prompt", "image"], "image=N"),
    (["--max-model-len", "lots"], "a number of tokens"),
    (["--max-num-seqs", "0"], "at least 1"),
    (["--mm-processor-kwargs", '{"fps": 2}'], "only min_pixels and max_pixels"),
    (["--override-generation-config", '{"beams": 2}'], "beams is not understood"),
    (["a/model", "--model", "b/model"], "two models"),
])
def test_bad_values_are_usage_errors(argv, message):
    from vlagent.cli.main import UsageError

    with pytest.raises(UsageError, match=message):
        options(*argv)


@pytest.mark.parametrize("argv,reason", [
    (["--tensor-parallel-size", "2"], "one device"),
    (["-tp", "2"], "one device"),
    (["--gpu-memory-utilization", "0.9"], "no paged KV cache"),
    (["--trust-remote-code"], "never runs code from a model repository"),
    (["--enforce-eager", "Qwen/Qwen2.5-VL-3B-Instruct"], "eagerly"),
])
def test_vllm_flags_without_a_meaning_here_are_refused(argv, reason):
    _, _, args = options(*argv)
    assert reason in args.refused and args.refused.startswith(argv[0] + ": ")


def test_a_refused_flag_is_one_line_and_exit_2(tmp_path):
    proc = run_cli("serve", "--gpu-memory-utilization", "0.9", "--port", "0", home=tmp_path / "h", timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr_text.strip().splitlines()
    assert lines[-1].startswith("vlagent: --gpu-memory-utilization: ") and len(lines) == 1
