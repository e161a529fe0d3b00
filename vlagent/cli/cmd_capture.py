"""``vlagent capture`` — grab the screen (or a region of it), save and index it, and
optionally ask the model about it."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser(
        "capture", help="capture the screen or a region, index it, optionally ask about it",
        description="Capture the screen, save it under <home>/captures/, index it (OCR) as a screenshot and "
                    "print its id. --region (the default) shows the frozen screen to drag a rectangle on; "
                    "--full takes every monitor (or --monitor N) without any window. Bind an OS shortcut "
                    "to 'vlagent capture --region' where no global hotkey is possible (Wayland).")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--region", action="store_true", help="select a region on the frozen screen (default)")
    mode.add_argument("--full", action="store_true", help="the whole screen, no window (works from scripts)")
    mode.add_argument("--listen", action="store_true",
                      help="stay running: the capture.hotkey opens the region overlay, each time (Ctrl+C ends)")
    mode.add_argument("--check", action="store_true",
                      help="capture nothing: say which screen grabbers work here and how the hotkey can work")
    p.add_argument("--monitor", type=int, metavar="N", help="with --full: only monitor N (1-based; 0 = all)")
    p.add_argument("--ask", metavar="QUESTION", help="ask the model this question about the capture")
    p.add_argument("--output", metavar="FILE", help="also write the capture to FILE (format from its extension)")
    p.add_argument("--no-wait", action="store_true", help="only queue the OCR (a running app or 'watch' does it)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_setting_flags(p, "capture")
    p.set_defaults(func=run)


def use_gui_layer() -> None:
    """Register the Qt layer's screen grabber and region overlay with :mod:`vlagent.capture`
    (importing them registers them)."""
    import vlagent.gui.overlay  # noqa: F401 - registers the region selector
    import vlagent.gui.screens  # noqa: F401 - registers the "qt" capture handler


def run(ctx: Context, args) -> int:
    from vlagent.capture import CaptureError
    from vlagent.capture.flow import check_not_paused

    use_gui_layer()
    if args.check:
        return _check(ctx, args)
    if args.listen:
        return _listen(ctx, args)
    if args.monitor is not None and not args.full:
        raise UsageError("--monitor goes with --full")
    if args.monitor is not None and args.monitor < 0:
        raise UsageError("--monitor takes 0 (all monitors) or a monitor number from 1")
    settings = ctx.settings
    try:
        check_not_paused(settings)
        grabbed = _grab(settings, args, ctx.home)
        if grabbed is HANDED_OFF:
            print("handed to the running vlagent app")
            return 0
        if grabbed is None:
            print("vlagent: capture cancelled, nothing was saved", file=sys.stderr)
            return 1
        return _finish(ctx, args, *grabbed)
    except CaptureError as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1


HANDED_OFF = object()


def _grab(settings, args, home):
    """(image, info) of the capture; None when the user cancelled the selection; HANDED_OFF
    when a running app took the region request."""
    from vlagent.capture import capture

    choice = settings.view.capture.backend
    if args.full:
        shot = capture(choice=choice)
        monitor = args.monitor or 0
        info = {"mode": "full", "monitor": monitor, "shot": shot}
        return shot.monitor_image(monitor), info
    from vlagent.capture.region import RegionRequest, request_region_capture
    from vlagent.gui.instance import region_handoff  # a running desktop app takes the request over

    outcome = request_region_capture(RegionRequest(args.ask, settings.view.capture.keep), choice=choice,
                                     language=settings.view.general.language, handoff=region_handoff(home))
    if outcome.handed_off:
        return HANDED_OFF
    if outcome.region is None:
        return None
    return outcome.region.image, _region_info(outcome.region, outcome.shot)


def _region_info(region, shot) -> dict:
    return {"mode": "region", "monitor": region.monitor, "region": region.rect.as_dict(),
            "whole_screen": region.whole_screen, "shot": shot}


def _check(ctx: Context, args) -> int:
    from vlagent.capture import build_handlers
    from vlagent.capture.hotkey import HotkeyError, hotkey_mode
    from vlagent.capture.session import detect
    from vlagent.cli.output import print_json

    session = detect()
    handlers: list[dict[str, Any]] = []
    for handler in build_handlers(ctx.settings.view.capture.backend, session):
        usable = handler.available()
        handlers.append({"handler": handler.name, "available": usable.ok, "reason": usable.reason})
    hotkey = ctx.settings.view.capture.hotkey
    mode: dict[str, Any]
    try:
        mode = {"hotkey": hotkey, **hotkey_mode(hotkey, session).as_dict()}
    except HotkeyError as e:
        mode = {"hotkey": hotkey, "mode": None, "reason": str(e), "instruction": ""}
    if args.json:
        print_json({"session": session.kind, "desktop": session.desktop, "handlers": handlers, "hotkey": mode})
        return 0
    print(f"session: {session.kind}" + (f" ({session.desktop})" if session.desktop else ""))
    for h in handlers:
        print(f"  {h['handler']:<7} {'usable' if h['available'] else 'no: ' + h['reason']}")
    print(f"hotkey {mode['hotkey']}: {mode['mode'] or 'invalid'} — {mode['reason']}")
    if mode["instruction"]:
        print(f"  {mode['instruction']}")
    return 0 if any(h["available"] for h in handlers) else 1


def _listen(ctx: Context, args) -> int:
    """The hotkey without the desktop app: a Qt event loop, pynput's listener, and the
    overlay on each press. Pausing (privacy.paused in config.toml) applies at the next press."""
    from vlagent.capture import CaptureError
    from vlagent.capture.hotkey import GLOBAL_HOTKEY, HotkeyError, HotkeyListener, hotkey_mode, human_hotkey
    from vlagent.settings import Settings

    settings = ctx.settings
    hotkey = settings.view.capture.hotkey
    try:
        mode = hotkey_mode(hotkey)
    except HotkeyError as e:
        raise UsageError(str(e)) from None
    if mode.mode != GLOBAL_HOTKEY:
        print(f"vlagent: no global hotkey here ({mode.reason}).\nInstead, {mode.instruction}", file=sys.stderr)
        return 1
    from vlagent.gui.region_loop import RegionLoop

    def on_region(region, shot):
        try:
            _finish(ctx, args, region.image, _region_info(region, shot))
        except CaptureError as e:
            print(f"vlagent: {e}", file=sys.stderr, flush=True)

    def on_error(e):
        print(f"vlagent: {e}", file=sys.stderr, flush=True)

    loop = RegionLoop(on_region, choice=settings.view.capture.backend, language=settings.view.general.language,
                      on_error=on_error)
    listener = HotkeyListener(
        hotkey, loop.request, paused=lambda: Settings.load(ctx.home.config_path).view.privacy.paused,
        on_paused=lambda: print("vlagent: capturing is paused (privacy.paused): hotkey ignored",
                                file=sys.stderr, flush=True))
    try:
        listener.start()
    except HotkeyError as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1
    print(f"listening: press {human_hotkey(hotkey)} to capture a region (Ctrl+C to stop)", file=sys.stderr,
          flush=True)
    try:
        loop.run()  # until Ctrl+C or SIGTERM
    finally:
        listener.stop()
    return 0


def _finish(ctx: Context, args, image, info) -> int:
    from vlagent.capture.flow import (
        answer_question,
        capture_runner,
        discard_capture,
        run_capture_jobs,
        store_capture,
    )
    from vlagent.cli.output import print_json

    settings, index = ctx.settings, ctx.index
    shot = info.pop("shot")
    if args.output:
        try:
            image.save(args.output)
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot write {args.output}: {e}") from None
    stored = store_capture(image, index=index, settings=settings, home=ctx.home)
    runner = capture_runner(index, settings, ctx.home)
    if not args.no_wait:
        t0 = time.perf_counter()
        run_capture_jobs(index, settings, ctx.home, stored.image_id, runner=runner)
        stored.timings["jobs_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    record = {**stored.as_dict(), "source": "screenshot", **info, "capture": shot.describe(),
              "output": args.output, "ocr_text": index.latest_text(stored.image_id, "ocr"),
              "timings": stored.timings}
    if not args.json:
        _print_capture(record)
    if args.ask:
        from vlagent.vlm.base import VlmError

        if settings.view.vlm.backend != "transformers":
            print(f"note: the capture is sent to the remote model at {settings.view.vlm.openai_base_url}",
                  file=sys.stderr)
        stream = None if args.json else _stream_to_stdout
        if stream:
            print(f"Q: {args.ask}\nA: ", end="", flush=True)
        try:
            gen = answer_question(image, args.ask, image_id=stored.image_id, index=index, settings=settings,
                                  home=ctx.home, on_token=stream, runner=runner)
        except VlmError as e:
            if not settings.view.capture.keep:
                discard_capture(index, stored)
            print(f"\nvlagent: the question could not be answered: {e}", file=sys.stderr)
            return 1
        if stream:
            print(flush=True)
        record["question"] = args.ask
        record["answer"] = gen.text
    keep = settings.view.capture.keep
    if not keep:
        discard_capture(index, stored)
    record["kept"] = keep or not stored.created
    if args.json and args.listen:
        print(json.dumps(record, ensure_ascii=False, default=str), flush=True)  # one line per capture
    elif args.json:
        print_json(record)
    elif not keep and stored.created:
        print("not kept (capture.keep = false): the capture and its index entry were removed")
    return 0


def _stream_to_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _print_capture(r: dict) -> None:
    where = f"monitor {r['monitor']}" if r["monitor"] else "all monitors"
    if r["mode"] == "region":
        where = f"region of monitor {r['monitor']}"
    print(f"captured #{r['id']} {r['width']}x{r['height']} ({where}, via {r['capture']['handler']}) → {r['path']}")
    if r["output"]:
        print(f"written to {r['output']}")
    text = r["ocr_text"].strip()
    if text:
        lines = text.splitlines()
        print("text: " + " | ".join(lines[:5]) + (f" … (+{len(lines) - 5} lines)" if len(lines) > 5 else ""))
