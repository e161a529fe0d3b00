"""``vlagent watch [FOLDER...]`` — the headless agent in the foreground.

Watches folders (given here, or watch.folders from the config), indexes what is
dropped into them and runs OCR and model jobs on the same background worker the
desktop app uses. One status line; Ctrl-C (or SIGTERM) stops cleanly, leaving every
unfinished job queued for the next start.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from vlagent.cli.main import UsageError
from vlagent.settings.cli_flags import add_setting_flags

if TYPE_CHECKING:
    from vlagent.cli.context import Context


def register(sub) -> None:
    p = sub.add_parser("watch", help="watch folders and index what appears in them (foreground agent)",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("folders", nargs="*", metavar="FOLDER",
                   help="folders to watch (default: watch.folders from the config)")
    p.add_argument("--once", action="store_true",
                   help="index what is there, finish the queued jobs, then exit (no live watching)")
    p.add_argument("--describe", action="store_true", help="also describe each image with the model")
    p.add_argument("--status-every", type=float, default=5.0, metavar="S",
                   help="when stderr is not a terminal, print the status line every S seconds (0 = never)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on exit")
    p.add_argument("-q", "--quiet", action="store_true", help="no status line")
    add_setting_flags(p, "watch")
    p.set_defaults(func=run)


def run(ctx: Context, args) -> int:
    from vlagent.cli.output import display_path, print_json
    from vlagent.worker import Agent, AlreadyRunning

    settings = ctx.settings
    if args.describe:
        settings.override("vlm.describe", True)
    folders = [os.path.abspath(os.path.expanduser(f)) for f in args.folders] or None
    if folders is None and not settings.view.watch.folders:
        raise UsageError("no folders to watch: give FOLDER..., or add one with "
                         "'vlagent config watch.folders add ~/Pictures'")
    for f in folders or []:
        if not os.path.isdir(f):
            raise UsageError(f"{display_path(f)}: not a folder")

    agent = Agent(ctx.home, settings, folders)
    try:
        agent.start()
    except AlreadyRunning as e:
        print(f"vlagent: {e}", file=sys.stderr)
        return 1

    stop = threading.Event()
    signals = {"n": 0}

    def on_signal(signum, frame):
        signals["n"] += 1
        if signals["n"] > 1:
            print("\nvlagent: forced exit; unfinished jobs are recovered at the next start", file=sys.stderr)
            os._exit(130)
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    line = StatusLine(agent, quiet=args.quiet or args.json, every=args.status_every)
    roots = folders or settings.view.watch.folders
    line.say(f"watching {len(roots)} folder{'s' * (len(roots) != 1)}: {', '.join(map(display_path, roots))}"
             + ("" if args.once else "  (Ctrl-C to stop)"))
    for root in roots:
        if not os.path.isdir(os.path.expanduser(root)):  # from watch.folders: FOLDER arguments were checked
            line.say(f"{display_path(root)} does not exist"
                     + (": skipped" if args.once else " (yet): it is watched when it appears"))
    t0 = time.monotonic()
    try:
        while not stop.wait(0.25):
            line.draw()
            if args.once and _drained(agent, ctx.index):
                break
            if not agent.worker.running or not agent.watcher.running:
                stop.set()  # e.g. the data home was deleted: both stop writing (IndexGone)
    finally:
        line.say("stopping…" if not args.once else "done", end=True)
        clean = agent.stop()
        for s, h in old.items():
            signal.signal(s, h)
    summary = {"folders": dict(agent.watcher.status.folders), "files": dict(agent.watcher.counts),
               "jobs_done": agent.worker.status.done, "jobs_failed": agent.worker.status.failed,
               "queued": agent.worker.status.queued, "elapsed_s": round(time.monotonic() - t0, 2),
               "clean": clean, "error": agent.worker.status.error or agent.watcher.status.error}
    if args.json:
        print_json(summary)
    else:
        print(f"{line.text()}  ({summary['elapsed_s']} s)", file=sys.stderr)
    if summary["error"]:
        print(f"vlagent: watch stopped: {summary['error']}", file=sys.stderr)
    return 0 if clean and not summary["error"] else 1


def _drained(agent, index) -> bool:
    """--once: the backfill is over and no job this worker can run is left."""
    from vlagent.index.queue import JobQueue

    if not agent.watcher.wait_idle(0) or not agent.worker.wait_started(0):
        return False
    if agent.worker.paused:
        return True
    return JobQueue(index).pending_count(list(agent.worker.runner.steps)) == 0


class StatusLine:
    """The one-line live status on stderr: redrawn in place on a terminal, printed every
    ``every`` seconds (when it changed) otherwise."""

    def __init__(self, agent, *, quiet: bool, every: float):
        self.agent = agent
        self.quiet = quiet
        self.every = every
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._last_text = ""

    def text(self) -> str:
        from vlagent.cli.output import display_text

        # It names folders and files (the one being scanned): never raw escapes on the terminal.
        return display_text(f"{self.agent.watcher.status.line()} | {self.agent.worker.status.line()}")

    def say(self, message: str, end: bool = False) -> None:
        if self.quiet:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[2K")
        print(message, file=sys.stderr, flush=True)

    def draw(self) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        text = self.text()
        if self.tty:
            import shutil

            cols = shutil.get_terminal_size((100, 20)).columns
            sys.stderr.write("\r\x1b[2K" + text[: cols - 1])
            sys.stderr.flush()
        elif self.every > 0 and now - self._last >= self.every and text != self._last_text:
            print(text, file=sys.stderr, flush=True)
            self._last, self._last_text = now, text

