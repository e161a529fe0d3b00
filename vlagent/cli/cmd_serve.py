"""vlagent serve: the local API (OpenAI-compatible) on the running agent; vlagent api-token.

Serves POST /v1/chat/completions and GET /v1/models the way OpenAI clients expect (so
Dify, scripts and other apps can use the local model), plus POST /v1/describe,
GET /v1/search, GET /v1/images/ID and its thumbnail, POST /v1/memory/ask, the routes of the
Qwen-VL services people run today (/describe-image/, /v1/vision/completion) and vLLM's
(/health, /version, /tokenize, /detokenize, /metrics). Every request needs the bearer
token kept in the data home ('vlagent api-token' prints it), or --api-key's key; --no-auth
(loopback only) serves clients that send none. It binds to 127.0.0.1; another address
needs --allow-remote. The model is loaded and warmed up before it listens. Requests that
arrive together are generated as one batch (up to --max-num-seqs), ahead of background
jobs; --watch also watches folders.

vLLM's flags work with the same names and meaning: vlagent serve Qwen/Qwen2.5-VL-3B-Instruct
--served-model-name qwen-vl --api-key EMPTY --dtype bfloat16 --max-model-len 8192
--limit-mm-per-prompt image=4 --max-num-seqs 8. Those with no meaning here
(--tensor-parallel-size, --gpu-memory-utilization, …) are refused with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.api.server import ServeOptions
    from vlagent.cli.context import Context


# vLLM's dtype names → vlm.dtype
DTYPES = {"auto": "auto", "half": "float16", "float16": "float16", "bfloat16": "bfloat16", "float": "float32",
          "float32": "float32"}
ONE_DEVICE = ("vlagent runs the model on one device (--vlm-device); to spread a model over several GPUs, run "
              "vLLM itself and point vlagent at it (vlm.backend openai)")
NO_PAGED_CACHE = "vlagent has no paged KV cache to size: each batch takes the memory it needs (cap it with " \
                 "--max-num-seqs and --vlm-max-pixels)"
# vLLM serve flags that have no meaning here: refused, each with its reason.
REFUSED_FLAGS: dict[tuple[str, ...], str] = {
    ("--tensor-parallel-size", "-tp"): ONE_DEVICE,
    ("--pipeline-parallel-size", "-pp"): ONE_DEVICE,
    ("--data-parallel-size", "-dp"): ONE_DEVICE,
    ("--distributed-executor-backend",): ONE_DEVICE,
    ("--disable-custom-all-reduce",): ONE_DEVICE,
    ("--gpu-memory-utilization",): NO_PAGED_CACHE,
    ("--kv-cache-dtype",): NO_PAGED_CACHE,
    ("--block-size",): NO_PAGED_CACHE,
    ("--swap-space",): NO_PAGED_CACHE,
    ("--num-gpu-blocks-override",): NO_PAGED_CACHE,
    ("--max-num-batched-tokens",): "batches are counted in requests here (--max-num-seqs), not in tokens",
    ("--cpu-offload-gb",): "the model is loaded whole on one device",
    ("--enforce-eager",): "the model always runs eagerly (there are no CUDA graphs to turn off)",
    ("--max-seq-len-to-capture",): "the model always runs eagerly (there are no CUDA graphs)",
    ("--quantization", "-q"): "the only quantisation is int8 on the CPU (--vlm-cpu-quantize)",
    ("--trust-remote-code",): "Qwen-VL checkpoints load with transformers' own code: vlagent never runs code "
                              "from a model repository, so there is nothing to trust",
    ("--load-format",): "checkpoints load as transformers loads them (safetensors)",
    ("--tokenizer",): "the model's own tokenizer is always used",
    ("--tokenizer-mode",): "the model's own (fast) tokenizer is always used",
    ("--chat-template",): "the model's own chat template is always used",
    ("--revision", "--tokenizer-revision", "--code-revision"): "pick a revision when downloading the model "
                                                               "('vlagent model pull'), then serve its folder",
    ("--download-dir",): "models live under the data home ('vlagent model pull', --home)",
    ("--seed",): "the engine cannot seed its sampler; a request may send seed with temperature 0",
    ("--generation-config",): "the sampling defaults are the vlm.* settings (--vlm-temperature, --vlm-top-p …; "
                              "or --override-generation-config)",
    ("--enable-auto-tool-choice", "--tool-call-parser"): "tool calling is not supported",
    ("--enable-lora", "--lora-modules", "--max-loras", "--max-lora-rank"): "LoRA adapters are not supported",
    ("--speculative-config", "--speculative-model", "--num-speculative-tokens"): "speculative decoding is not "
                                                                                 "supported",
    ("--guided-decoding-backend",): "guided decoding is not supported",
    ("--max-logprobs",): "log probabilities are not returned",
    ("--ssl-keyfile", "--ssl-certfile", "--ssl-ca-certs"): "vlagent serves plain HTTP; put a TLS proxy in front "
                                                           "of it for other machines",
    ("--root-path",): "the API is served at /",
    ("--allowed-origins", "--allowed-methods", "--allowed-headers", "--allow-credentials"):
        "web pages of other origins are never let in (no CORS)",
    ("--uvicorn-log-level",): "the server logs to <home>/logs/serve.log (-v for more on the terminal)",
    ("--disable-log-requests", "--enable-log-requests", "--disable-log-stats"):
        "requests are never logged; the counters are at GET /metrics",
    ("--device",): "choose the device with --vlm-device",
    ("--task", "--runner"): "vlagent generates text only",
    ("--api-server-count", "--headless"): "one API server runs in this process",
}


class _Refused(argparse.Action):
    """A vLLM flag with no meaning here: remembered, then refused with its reason (one line, exit 2)."""

    def __init__(self, option_strings, dest, why: str = "", **kw):
        kw.pop("nargs", None)
        super().__init__(option_strings, argparse.SUPPRESS, nargs="?", help=argparse.SUPPRESS, **kw)
        self.why = why

    def __call__(self, parser, namespace, values, option_string=None):
        if not getattr(namespace, "refused", None):
            namespace.refused = f"{option_string}: {self.why}"


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the local API (OpenAI-compatible) from the agent",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_arg", nargs="?", metavar="MODEL",
                   help="the model: a hub id or a local folder (as 'vllm serve MODEL'; default: vlm.model)")
    p.add_argument("--host", help="address to bind (default: api.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: api.port, 8765; 0 = any free port)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow an address other clients can reach (e.g. --host 0.0.0.0); the token is still required")
    p.add_argument("--api-key", metavar="KEY",
                   help="clients send this key ('Authorization: Bearer KEY') instead of the generated token; "
                        "--api-key EMPTY accepts what clients configured with api_key='EMPTY' send (a key on the "
                        "command line is visible to other users of this machine in the process list)")
    p.add_argument("--no-auth", action="store_true",
                   help="no token at all, for clients that send no header (loopback only; requests naming another "
                        "Host or coming from another site's web page are refused)")
    p.add_argument("--served-model-name", nargs="+", metavar="NAME",
                   help="the names requests may use for the model (the first is what GET /v1/models lists and "
                        "answers carry); the model's id and folder name still work")
    p.add_argument("--dtype", choices=sorted(DTYPES), help="the weights' dtype (vlm.dtype; half = float16, "
                                                           "float = float32)")
    p.add_argument("--max-model-len", metavar="N",
                   help="prompt plus completion tokens per request, at most (e.g. 8192 or 8k); longer requests "
                        "are refused, and an answer without max_tokens stops where the context ends")
    p.add_argument("--limit-mm-per-prompt", metavar="LIMITS",
                   help="images per request, at most: image=4 or '{\"image\": 4}' (videos are not supported)")
    p.add_argument("--max-num-seqs", type=int, metavar="N",
                   help="requests generated together in one batch, at most (vlm.batch_size); 1 turns batching off")
    p.add_argument("--mm-processor-kwargs", metavar="JSON",
                   help="'{\"min_pixels\": …, \"max_pixels\": …}': the image pixel budget (vlm.min_pixels, "
                        "vlm.max_pixels)")
    p.add_argument("--override-generation-config", metavar="JSON",
                   help="'{\"temperature\": 0.7, \"top_p\": 0.9, \"top_k\": 20, \"repetition_penalty\": 1.05, "
                        "\"max_new_tokens\": 512}': sampling defaults for requests that do not say; max_new_tokens "
                        "also caps what a request may ask for")
    p.add_argument("--enable-prefix-caching", action=argparse.BooleanOptionalAction, default=None,
                   help="keep images already read for follow-up questions (on by default: vlm.prefix_cache_mb; "
                        "--no-enable-prefix-caching turns it off)")
    for flags, why in REFUSED_FLAGS.items():
        p.add_argument(*flags, action=_Refused, why=why)
    p.add_argument("--watch", nargs="*", metavar="FOLDER",
                   help="also watch folders and index what appears (no FOLDER: watch.folders from the config)")
    p.add_argument("--describe", action="store_true", help="also describe each newly indexed image in the background")
    add_setting_flags(p, "serve")
    p.set_defaults(func=run)

    t = sub.add_parser("api-token", help="print the API's bearer token (created if there is none yet)",
                       description="Print the bearer token that API clients send as 'Authorization: Bearer TOKEN'. "
                                   "It lives in the data home, readable by you only.")
    t.add_argument("--regenerate", action="store_true", help="replace it with a new token (restart 'serve' after)")
    t.set_defaults(func=run_token)


def run_token(ctx: Context, args) -> int:
    from vlagent.api.token import load_or_create

    ctx.home.ensure()
    print(load_or_create(ctx.home, regenerate=args.regenerate))
    return 0


def serve_options(settings, args) -> ServeOptions:
    """vLLM's flags: the settings they stand for (overridden for this run) and the server's options."""
    from vlagent.api.server import ServeOptions

    model = args.model_arg
    if model:
        flag = getattr(args, "set_vlm__model", None)
        if flag and flag != model:
            raise UsageError(f"two models: {model} and --model {flag}; give one")
        settings.override("vlm.model", model)
    if args.dtype:
        settings.override("vlm.dtype", DTYPES[args.dtype])
    if args.max_num_seqs is not None:
        if args.max_num_seqs < 1:
            raise UsageError(f"--max-num-seqs {args.max_num_seqs}: must be at least 1")
        settings.override("vlm.batch_size", args.max_num_seqs)
    if args.enable_prefix_caching is False:
        settings.override("vlm.prefix_cache_mb", 0)
    if args.mm_processor_kwargs:
        for key, value in _json_object("--mm-processor-kwargs", args.mm_processor_kwargs).items():
            if key not in ("min_pixels", "max_pixels") or not isinstance(value, int) or value < 1:
                raise UsageError(f"--mm-processor-kwargs: only min_pixels and max_pixels (positive integers) are "
                                 f"understood; got {key}={value!r}")
            settings.override(f"vlm.{key}", value)
    cap = None
    if args.override_generation_config:
        cap = _generation_config(settings, _json_object("--override-generation-config",
                                                        args.override_generation_config))
    names = [n.strip() for n in args.served_model_name or [] if n.strip()]
    if len(set(names)) != len(names):
        raise UsageError("--served-model-name: a name is given twice")
    return ServeOptions(api_key=args.api_key, no_auth=args.no_auth, served_model_names=names,
                        max_model_len=_max_model_len(args.max_model_len), max_images=_max_images(args),
                        max_tokens_cap=cap)


def _generation_config(settings, config: dict) -> int | None:
    """--override-generation-config: the vlm.* sampling defaults it names; its max_new_tokens (the
    cap on a request's max_tokens, as in vLLM) is returned."""
    keys = {"temperature": "vlm.temperature", "top_p": "vlm.top_p", "top_k": "vlm.top_k",
            "repetition_penalty": "vlm.repetition_penalty", "max_new_tokens": "vlm.max_new_tokens"}
    from vlagent.settings.store import SettingError

    for key, value in config.items():
        if key not in keys:
            raise UsageError(f"--override-generation-config: {key} is not understood (known: {', '.join(keys)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"--override-generation-config: {key} must be a number; got {value!r}")
        try:
            settings.override(keys[key], value)
            if key == "temperature":
                settings.override("vlm.do_sample", value > 0)
        except SettingError as e:
            raise UsageError(f"--override-generation-config: {e}") from None
    cap = config.get("max_new_tokens")
    return int(cap) if cap is not None else None


def _max_model_len(text: str | None) -> int | None:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise UsageError(f"--max-model-len {text}: a number of tokens (8192, 8k, 1m)")
    unit = {"": 1, "k": 1000, "K": 1024, "m": 1_000_000, "M": 1024 * 1024}[m.group(2)]
    n = int(float(m.group(1)) * unit)
    if n < 16:
        raise UsageError(f"--max-model-len {text}: at least 16 tokens")
    return n


def _max_images(args) -> int | None:
    text = args.limit_mm_per_prompt
    if text is None:
        return None
    if text.strip().startswith("{"):
        limits = _json_object("--limit-mm-per-prompt", text)
    else:
        limits = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep or not value.strip().isdigit():
                raise UsageError(f"--limit-mm-per-prompt {text}: write image=N (or '{{\"image\": N}}')")
            limits[key.strip()] = int(value)
    for key, value in limits.items():
        if key not in ("image", "video", "audio") or not isinstance(value, int) or value < 0:
            raise UsageError(f"--limit-mm-per-prompt: {key}={value!r} is not a modality count (image=N)")
        if key != "image" and value > 0:
            raise UsageError(f"--limit-mm-per-prompt: {key}s are not supported (images only); leave {key} out or 0")
    n = limits.get("image")
    return int(n) if n is not None else None


def _json_object(flag: str, text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise UsageError(f"{flag}: not valid JSON: {text}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{flag}: a JSON object is expected: {text}")
    return value


def run(ctx: Context, args) -> int:
    from vlagent.api.server import ApiConfigError, ApiServer
    from vlagent.worker import Agent, AlreadyRunning

    settings = ctx.settings
    if getattr(args, "refused", None):
        raise UsageError(args.refused)
    options = serve_options(settings, args)
    if args.describe:
        settings.override("vlm.describe", True)
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number")
    folders: list[str] | None = []
    if args.watch is not None:
        folders = [os.path.abspath(os.path.expanduser(f)) for f in args.watch] or None
        for f in folders or []:
            if not os.path.isdir(f):
                raise UsageError(f"{f}: not a folder")
        if folders is None and not settings.view.watch.folders:
            raise UsageError("--watch without folders needs watch.folders in the config "
                             "('vlagent config watch.folders add ~/Pictures')")
    agent = Agent(ctx.home, settings, folders)
    try:
        server = ApiServer(agent, host=args.host, port=args.port, allow_remote=args.allow_remote or None,
                           options=options)
    except ApiConfigError as e:
        raise UsageError(str(e)) from None
    try:
        agent.start()
    except AlreadyRunning as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    try:
        server.reserve()  # the address first: a port in use fails before the model loads
        loaded_s = server.load_model()  # ready before it listens: loaded and warmed up
        service = server.service
        assert service is not None  # made by load_model()
        if loaded_s is not None:
            print(f"model {settings.view.vlm.model} loaded and warmed up in {loaded_s:.1f} s", file=sys.stderr,
                  flush=True)
        elif service.load_error:
            print(f"vlagent: the model is not available ({service.load_error}); chat and describe requests "
                  "answer 503", file=sys.stderr, flush=True)
        server.start()
    except (ApiConfigError, OSError, RuntimeError) as e:
        print(f"vlagent: {e}", file=sys.stderr)
        agent.stop()
        return 1

    service = server.service
    assert service is not None  # made by start()
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    key = "no token: --no-auth" if options.no_auth else "key: --api-key" if options.api_key else \
        "token: 'vlagent api-token'"
    print(f"vlagent API listening on {server.url}  (model: {service.model_id()}; {key}; Ctrl-C to stop)", flush=True)
    from vlagent.web import login_message

    print(login_message(server), flush=True)
    try:
        while not stop.wait(0.5):
            if not agent.worker.running:
                print(f"vlagent: the worker stopped: {agent.worker.status.error}", file=sys.stderr)
                break
    finally:
        print("stopping…", file=sys.stderr, flush=True)
        clean = server.stop()
        clean = agent.stop() and clean
        for s, h in old.items():
            signal.signal(s, h)
    return 0 if clean and not agent.worker.status.error else 1
