"""The API under a connection flood: can the token holder still get in, and how fast?

    python bench/flood.py                          # 2000 half-open connections, server file limit 1024
    python bench/flood.py --connections 20000 --server-files 4096 --seconds 60

Starts ``vlagent serve`` on loopback in a temporary data home (its file limit lowered to
``--server-files``, so a flood would run it out of files without the guard), measures the
token holder's requests idle, then opens ``--connections`` connections that each send half
a request line and nothing more, and measures the token holder again while they are held
(and while more keep coming). Prints a table: how many half-open connections were opened,
how many the server closed (the guard closes the oldest when a client holds too many, and
any after ``api.header_timeout_s``), and the token holder's latency. Loopback only; bounded
by ``--connections`` and ``--seconds``; it stops the server and exits by itself.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HALF_REQUEST = b"GET /v1/sea"  # half a request line: the head never completes


from api import pct, table, write_config  # noqa: E402 - bench/api.py's helpers (bench/ is on sys.path)


class Serve:
    """``vlagent serve --port 0`` on a temporary data home, with a lowered file limit."""

    def __init__(self, home: Path, files: int, settings: dict):
        write_config(home, settings)
        env = {**os.environ, "VLAGENT_HOME": str(home), "PYTHONPATH": str(REPO)}
        self.log = home.parent / "serve.log"

        def limit_files() -> None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(files, hard), hard))

        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "vlagent", "serve", "--port", "0"], cwd=str(REPO),
                                         env=env, stdout=subprocess.PIPE, stderr=err, preexec_fn=limit_files)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 120
        self.port = 0
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            if "listening on " in line:
                self.port = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
                break
        if not self.port:
            self.proc.kill()
            raise SystemExit(f"vlagent serve did not start:\n{self.log.read_text()}")
        self.token = subprocess.run([sys.executable, "-m", "vlagent", "api-token"], env=env, cwd=str(REPO),
                                    capture_output=True, text=True, check=True, timeout=60).stdout.strip()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def token_request(port: int, token: str, timeout: float) -> float | None:
    """One request with the token on a fresh connection; its latency in ms, None when it failed."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/v1/search?q=flood&limit=1", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        return (time.perf_counter() - t0) * 1000 if resp.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


class Flood:
    """Half-open connections, opened on a thread until ``count`` or ``stop``; the ones the
    server closes are noticed (EOF) and counted."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.opened = self.failed = self.closed_by_server = 0
        self.held: dict[socket.socket, None] = {}
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.opened + self.failed < self.count and not self.stop.is_set():
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", self.port))
                s.sendall(HALF_REQUEST)
            except OSError:
                s.close()
                self.failed += 1
                continue
            s.setblocking(False)
            with self.lock:
                self.held[s] = None
                self.sel.register(s, selectors.EVENT_READ)
                self.opened += 1
            if self.opened % 64 == 0:
                self.reap(0)

    def reap(self, wait: float) -> None:
        """Close the sockets the server closed (EOF, a reset, or its 408 answer)."""
        with self.lock:
            if not self.held:
                return
            for key, _ in self.sel.select(wait):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data and not data.startswith(b"HTTP/1.1 408"):
                    continue
                self.sel.unregister(s)
                s.close()
                del self.held[s]
                self.closed_by_server += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        with self.lock:
            for s in list(self.held):
                s.close()
            self.held.clear()
            self.sel.close()


def measure(port: int, token: str, n: int, deadline: float, flood: Flood | None = None) -> list[float | None]:
    out: list[float | None] = []
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        out.append(token_request(port, token, timeout=max(1.0, min(30.0, deadline - time.monotonic()))))
        if flood is not None:
            flood.reap(0)
    return out


def row(phase: str, flood: Flood | None, lat: list[float | None]) -> list:
    ok = [x for x in lat if x is not None]
    return [phase, flood.opened if flood else 0, flood.closed_by_server if flood else 0,
            len(flood.held) if flood else 0, f"{len(ok)}/{len(lat)}", pct(ok, 0.5), pct(ok, 0.95),
            max(ok) if ok else float("nan")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=2000, help="half-open connections to open (max 50000)")
    ap.add_argument("--server-files", type=int, default=1024, help="the server's file limit (RLIMIT_NOFILE)")
    ap.add_argument("--requests", type=int, default=20, help="token holder requests per phase")
    ap.add_argument("--seconds", type=float, default=60, help="stop after this long, whatever is left")
    ap.add_argument("--header-timeout", type=float, default=10.0, help="api.header_timeout_s for the server")
    args = ap.parse_args()
    count = max(1, min(args.connections, 50_000))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    end = time.monotonic() + args.seconds
    with tempfile.TemporaryDirectory(prefix="vlagent-flood-") as tmp:
        server = Serve(Path(tmp) / "home", args.server_files,
                       {"general.language": "en", "api.header_timeout_s": args.header_timeout})
        flood: Flood | None = None
        rows = []
        try:
            rows.append(row("idle", None, measure(server.port, server.token, args.requests, end)))
            flood = Flood(server.port, count)
            flood.thread.start()
            rows.append(row("while opening", flood, measure(server.port, server.token, args.requests, end, flood)))
            while flood.thread.is_alive() and time.monotonic() < end:
                flood.reap(0.2)
            flood.stop.set()
            flood.thread.join(30)
            flood.reap(0.5)
            rows.append(row("all opened, held", flood, measure(server.port, server.token, args.requests, end, flood)))
        finally:
            if flood is not None:
                flood.close()
            server.stop()
        log = server.log.read_text(errors="replace")
    print(f"vlagent serve on loopback, file limit {args.server_files}; {count} half-open connections "
          f"({HALF_REQUEST.decode()!r}…) from 127.0.0.1; token holder: GET /v1/search, a fresh connection each")
    print(table(["phase", "half-open opened", "closed by server", "still open", "token ok", "p50 ms", "p95 ms",
                 "max ms"], rows))
    errors = [line for line in log.splitlines() if "Too many open files" in line or "out of system resource" in line]
    print(f"server log: {len(errors)} 'out of files' lines")


if __name__ == "__main__":
    main()
