"""The one error a pull raises: a sentence for the user, never a stack trace."""

from __future__ import annotations

from vlagent.vlm.base import VlmError

# Transport failures of the HTTP stacks the hub clients use (httpx/httpx2, requests, urllib3),
# matched by class name so this module imports none of them.
_NETWORK_CLASSES = {"TransportError", "RequestError", "ConnectionError", "ConnectError", "Timeout",
                    "TimeoutException", "ProtocolError", "NetworkError", "RemoteProtocolError",
                    "MaxRetryError", "NewConnectionError", "ProxyError", "SSLError"}


class PullError(VlmError):
    """A model could not be downloaded; the message says what failed and what to try."""


def is_network_error(e: BaseException) -> bool:
    if isinstance(e, (ConnectionError, TimeoutError)):
        return True
    return any(c.__name__ in _NETWORK_CLASSES for c in type(e).__mro__)


_REASONS = (("refused", "connection refused"), ("timed out", "timed out"), ("timeout", "timed out"),
            ("name or service not known", "host name not found"), ("getaddrinfo", "host name not found"),
            ("nodename nor servname", "host name not found"), ("temporary failure in name resolution",
                                                                "host name not found"),
            ("certificate", "TLS certificate problem"), ("ssl", "TLS problem"), ("proxy", "proxy error"),
            ("reset by peer", "connection reset"), ("peer closed", "connection closed early"))


def network_reason(e: BaseException) -> str:
    """A few words for a transport failure ("connection refused", "timed out", …), from the whole chain."""
    seen: set[int] = set()
    chain: list[str] = []
    link: BaseException | None = e
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        chain.append(f"{link.__class__.__name__}: {link}".lower())
        link = link.__cause__ or link.__context__
    text = " ".join(chain)
    for needle, words in _REASONS:
        if needle in text:
            return words
    return chain[0].split(":", 1)[0] if chain else "network error"
