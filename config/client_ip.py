"""The client's address: one rule for sign-in lockout, API throttles and the audit log.

``REMOTE_ADDR`` is the peer that opened the connection. ``X-Forwarded-For`` is only believed
when ``TRUSTED_PROXY_COUNT`` says that many proxies in front of Django each append the address
they received the request from: the client is then the entry that the outermost trusted proxy
wrote, ``n`` from the right. Anything left of it is whatever the client chose to send, so a
client rotating forged values cannot change its address. A header shorter than the proxy chain
or holding no valid address falls back to ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_from_meta(meta: dict[str, object], proxy_count: int) -> str | None:
    remote = _valid(str(meta.get("REMOTE_ADDR") or ""))
    if proxy_count <= 0:
        return remote
    entries = [part for part in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    if len(entries) < proxy_count:
        return remote
    return _valid(entries[-proxy_count]) or remote


def client_ip(request: HttpRequest) -> str | None:
    """The client address of a request (``None`` when even ``REMOTE_ADDR`` is unusable)."""
    return client_ip_from_meta(request.META, settings.TRUSTED_PROXY_COUNT)
