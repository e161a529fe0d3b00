"""Guarded download of image URLs: scheme allowlist, no private/loopback targets unless
allowed (checked on every redirect hop), a timeout and a size cap while streaming."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

from vlagent.imaging.errors import FetchError, TooLarge, URLNotAllowed
from vlagent.imaging.load import Limits

MAX_REDIRECTS = 5


def _is_private(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved
            or addr.is_multicast or addr.is_unspecified)


def check_url(url: str, limits: Limits) -> None:
    """Raise URLNotAllowed for a scheme outside the allowlist or a private target."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in limits.allowed_schemes:
        raise URLNotAllowed(f"URL scheme {scheme!r} is not allowed (allowed: {', '.join(limits.allowed_schemes)})")
    host = parts.hostname
    if not host:
        raise URLNotAllowed(f"URL has no host: {url}")
    if limits.allow_private_urls:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except socket.gaierror as e:
        raise FetchError(f"cannot resolve {host}: {e.strerror or e}") from None
    for info in infos:
        if _is_private(info[4][0]):
            raise URLNotAllowed(
                f"{host} resolves to a local or private address ({info[4][0]}); refused "
                "(set net.allow_private_urls to allow)")


def fetch_url(url: str, limits: Limits = Limits()) -> bytes:
    import httpx

    current = url
    with httpx.Client(timeout=limits.url_timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(current, limits)
            try:
                with client.stream("GET", current, headers={"Accept": "image/*"}) as resp:
                    if resp.is_redirect:
                        loc = resp.headers.get("location")
                        if not loc:
                            raise FetchError(f"{current}: redirect without a location")
                        current = urljoin(current, loc)
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"{current}: HTTP {resp.status_code}")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limits.url_max_bytes:
                        raise TooLarge(f"{current}: {int(declared):,} bytes is over the download limit "
                                       f"of {limits.url_max_bytes:,}")
                    buf = bytearray()
                    for chunk in resp.iter_bytes():
                        buf += chunk
                        if len(buf) > limits.url_max_bytes:
                            raise TooLarge(f"{current}: download exceeds the limit of {limits.url_max_bytes:,} bytes")
                    return bytes(buf)
            except httpx.TimeoutException:
                raise FetchError(f"{current}: timed out after {limits.url_timeout:g} s") from None
            except httpx.HTTPError as e:
                raise FetchError(f"{current}: {e.__class__.__name__}: {e}") from None
    raise FetchError(f"{url}: too many redirects")
