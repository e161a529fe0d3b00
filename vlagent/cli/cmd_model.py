"""``vlagent model pull|list|rm`` — download vision-language models and see what is here."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError

if TYPE_CHECKING:
    from vlagent.cli.context import Context

# The hub clients log every retry; the user gets one progress bar and one sentence instead (-v shows them).
_CHATTY_LOGGERS = ("huggingface_hub", "modelscope", "modelscope_hub")


def register(sub) -> None:
    p = sub.add_parser("model", help="download models (pull), list and remove them",
                       description="Models pulled by vlagent live in VLAGENT_HOME/models/<owner>--<name>/. Models "
                                   "already in the Hugging Face cache (HF_HUB_CACHE) or the ModelScope cache "
                                   "(MODELSCOPE_CACHE) are found and used where they are. A folder holding a "
                                   "model's config.json and safetensors weights can always be passed with --model.")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    pull = msub.add_parser("pull", help="download a model (resumes an interrupted pull)",
                           description="Download the files a transformers Qwen-VL model needs (config, safetensors "
                                       "weights, tokenizer, processor and chat template) — not other formats. An "
                                       "interrupted pull continues where it stopped when run again. Mirrors: "
                                       "HF_ENDPOINT (Hugging Face), MODELSCOPE_ENDPOINT (ModelScope); proxies: "
                                       "HTTPS_PROXY.")
    pull.add_argument("id", nargs="?", metavar="ID", help="hub model id (default: the vlm.model setting)")
    pull.add_argument("--hub", choices=["huggingface", "modelscope"],
                      help="where to download from (default: the vlm.hub setting; ModelScope is the one reachable "
                           "from mainland China and needs: pip install 'vlagent[modelscope]')")
    pull.add_argument("--revision", help="branch, tag or commit (default: main on Hugging Face, master on ModelScope)")
    pull.add_argument("--to", metavar="DIR", help="download into DIR instead (then use it with --model DIR)")
    pull.add_argument("--json", action="store_true", help="print the result as JSON")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    pull.set_defaults(func=run_pull)

    ls = msub.add_parser("list", help="models present here: size, where, which one is configured")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)

    rm = msub.add_parser("rm", help="delete a model vlagent pulled (other tools' caches are left alone)")
    rm.add_argument("id", metavar="ID", help="hub model id (or its folder name under VLAGENT_HOME/models)")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(func=run_rm)


def _quiet_libraries(args) -> None:
    if not args.verbose:
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)


def run_pull(ctx: Context, args) -> int:
    from vlagent.cli.output import Progress, human_bytes, human_duration, print_json
    from vlagent.vlm.base import VlmError
    from vlagent.vlm.hub import pull

    settings = ctx.settings
    repo_id = args.id or settings.view.vlm.model
    hub = args.hub or settings.view.vlm.hub
    _quiet_libraries(args)
    bars: list[Progress] = []

    def progress(total: int, initial: int) -> Progress:
        bar = Progress(f"{repo_id}", total + initial, unit="B", initial=initial,
                       enabled=not (args.quiet or args.json))
        if initial and bar.enabled:
            print(f"resuming: {human_bytes(initial)} already downloaded", file=sys.stderr)
        bars.append(bar)
        return bar

    try:
        result = pull(repo_id, home=ctx.home, hub=hub, revision=args.revision, to=args.to, progress=progress)
    except VlmError as e:
        for bar in bars:
            bar.finish()
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        for bar in bars:
            bar.finish()
        print("\ninterrupted: run the same command again to continue the download", file=sys.stderr)
        return 130
    for bar in bars:
        bar.finish()
    if args.json:
        print_json(result.as_dict())
        return 0
    rate = result.fetched_bytes / result.seconds if result.seconds > 0 else 0
    where = f"commit {result.commit[:12]}" if result.commit else f"revision {result.revision}"
    fetched = (f"fetched {result.fetched_files} files, {human_bytes(result.fetched_bytes)} in "
               f"{human_duration(result.seconds)} ({human_bytes(rate)}/s)" if result.fetched_files
               else "already up to date")
    print(f"{result.id} from {result.hub} ({where}): {result.files} files, {human_bytes(result.bytes)}; {fetched}")
    print(f"  {result.path}")
    if args.to:
        print(f"  use it with: --model {result.path}")
    return 0


def run_list(ctx: Context, args) -> int:
    from vlagent.cli.output import human_bytes, print_json
    from vlagent.vlm.base import ModelNotAvailable
    from vlagent.vlm.hub import list_models, resolve_model

    settings = ctx.settings
    models = list_models(ctx.home, settings)
    configured = settings.view.vlm.model
    try:
        configured_path, problem = str(resolve_model(configured, home=ctx.home, settings=settings)), None
    except ModelNotAvailable as e:
        configured_path, problem = None, str(e)
    if args.json:
        print_json({"models": models, "models_dir": str(ctx.home.models),
                    "configured": {"model": configured, "path": configured_path, "problem": problem}})
        return 0
    if not models:
        print(f"no models in {ctx.home.models} or the Hugging Face / ModelScope caches")
    else:
        width = max(len(m["id"]) for m in models)
        print(f"  {'MODEL':<{width}}  {'SIZE':>9}  {'SOURCE':<17}  PATH")
        for m in models:
            mark = "*" if m["configured"] else " "
            state = "" if m["complete"] else "  (unfinished: run vlagent model pull " + m["id"] + ")"
            print(f"{mark} {m['id']:<{width}}  {human_bytes(m['bytes']):>9}  {m['source']:<17}  {m['path']}{state}")
    print(f"configured (vlm.model): {configured}" + (f"  -> {configured_path}" if configured_path else ""))
    if problem:
        print(f"  {problem}")
    return 0


def run_rm(ctx: Context, args) -> int:
    from vlagent.cli.output import print_json
    from vlagent.vlm.base import VlmError
    from vlagent.vlm.hub import remove_model

    try:
        folder = remove_model(args.id, home=ctx.home)
    except VlmError as e:
        raise UsageError(str(e)) from None
    if args.json:
        print_json({"removed": str(folder)})
    else:
        print(f"removed {folder}")
    return 0
