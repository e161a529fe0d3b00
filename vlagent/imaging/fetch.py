"""Guarded download of image URLs.

Only allowed schemes (http/https by default; never ``file:`` or others); no private,
loopback or link-local targets unless allowed — checked on every redirect hop, and the
connection goes to the very address that was checked (no second DNS lookup a rebinding
server could answer differently); one overall timeout; a size cap while streaming.
Standard library only, so the import stays cheap.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

from vlagent import __version__
from vlagent.imaging.errors import BadInput, FetchError, TooLarge, URLNotAllowed
from vlagent.imaging.load import Limits

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
FETCHABLE = ("http", "https")


def _is_private(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved
            or addr.is_multicast or addr.is_unspecified)


def check_url(url: str, limits: Limits) -> list[tuple]:
    """The addresses to connect to for ``url``; raises URLNotAllowed for a scheme outside
    the allowlist or (unless allowed) any private address among them."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in limits.allowed_schemes or scheme not in FETCHABLE:
        allowed = ", ".join(s for s in limits.allowed_schemes if s in FETCHABLE)
        raise URLNotAllowed(f"URL scheme {scheme!r} is not allowed (allowed: {allowed or 'none'})", source=url)
    host = parts.hostname
    if not host:
        raise BadInput(f"URL has no host: {url}", source=url)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise BadInput(f"URL has an invalid port: {url}", source=url) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(f"cannot resolve {host}: {getattr(e, 'strerror', None) or e}", source=url) from None
    if not limits.allow_private_urls:
        for info in infos:
            if _is_private(str(info[4][0])):  # an AF_INET/AF_INET6 sockaddr: the address is a str
                raise URLNotAllowed(
                    f"{host} resolves to a local or private address ({info[4][0]}); refused "
                    "(set net.allow_private_urls to allow)", source=url)
    return infos


def _connect(infos: list[tuple], timeout: float | None) -> socket.socket:
    last: OSError | None = None
    for family, type_, proto, _, sockaddr in infos:
        sock = socket.socket(family, type_, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            last = e
    raise last or OSError("no address to connect to")


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked addresses only. ``held`` keeps the socket after http.client lets
    go of it: a response that ends the connection (HTTP/1.0, ``Connection: close``) makes
    ``getresponse`` drop ``self.sock`` while the body is still to be read from it."""

    held: socket.socket | None = None

    def __init__(self, host: str, port: int, infos: list[tuple], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._infos = infos

    def connect(self) -> None:
        self.sock = self.held = _connect(self._infos, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    held: socket.socket | None = None  # as _PinnedHTTP.held

    def __init__(self, host: str, port: int, infos: list[tuple], timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._infos = infos

    def connect(self) -> None:
        self.sock = self.held = self._tls.wrap_socket(_connect(self._infos, self.timeout),
                                                      server_hostname=self.host)


def fetch_url(url: str, limits: Limits = Limits()) -> bytes:
    deadline = time.monotonic() + limits.url_timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        infos = check_url(current, limits)
        parts = urlsplit(current)
        host = parts.hostname
        assert host is not None  # check_url() refused a URL without one
        https = parts.scheme.lower() == "https"
        conn = (_PinnedHTTPS if https else _PinnedHTTP)(host, parts.port or (443 if https else 80), infos,
                                                        limits.url_timeout)
        try:
            conn.timeout = _remaining(deadline)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("GET", target, headers={"Accept": "image/*", "Accept-Encoding": "identity",
                                                 "User-Agent": f"vlagent/{__version__}"})
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                loc = resp.getheader("location")
                if not loc:
                    raise FetchError(f"{current}: redirect without a location", source=url)
                current = urljoin(current, loc)
                continue
            if not 200 <= resp.status < 300:
                raise FetchError(f"{current}: HTTP {resp.status} {resp.reason}".rstrip(), source=url)
            declared = resp.getheader("content-length")
            if declared and declared.isdigit() and int(declared) > limits.url_max_bytes:
                raise TooLarge(f"{current}: {int(declared):,} bytes is over the download limit of "
                               f"{limits.url_max_bytes:,}", source=url)
            buf = bytearray()
            while True:
                assert conn.held is not None  # connected by request()
                conn.held.settimeout(_remaining(deadline))
                chunk = resp.read1(CHUNK)  # whatever has arrived: read() would wait for all CHUNK bytes
                if not chunk:
                    return bytes(buf)
                buf += chunk
                if len(buf) > limits.url_max_bytes:
                    raise TooLarge(f"{current}: download exceeds the limit of {limits.url_max_bytes:,} bytes",
                                   source=url)
        except TimeoutError:
            raise FetchError(f"{current}: timed out after {limits.url_timeout:g} s", source=url) from None
        except ssl.SSLError as e:
            raise FetchError(f"{current}: TLS error ({e.reason or e})", source=url) from None
        except (OSError, http.client.HTTPException) as e:
            raise FetchError(f"{current}: {e.__class__.__name__}: {e}", source=url) from None
        finally:
            conn.close()
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects", source=url)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left
