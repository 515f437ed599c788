"""The one client-address rule (no database)."""

from __future__ import annotations

import pytest

from config.client_ip import client_ip_from_meta


@pytest.mark.parametrize(
    ("meta", "proxies", "expected"),
    [
        ({"REMOTE_ADDR": "203.0.113.9"}, 0, "203.0.113.9"),
        # No trusted proxy: the header is the client's own word and is ignored.
        ({"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, 0, "203.0.113.9"),
        # One proxy appends the address it saw; whatever the client put left of it is ignored.
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7"}, 1, "198.51.100.7"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}, 1, "198.51.100.7"),
        # Two proxies: the outer one wrote the client, the inner one the outer proxy.
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7, 10.0.0.1"}, 2, "198.51.100.7"),
        # Fewer entries than proxies, or garbage: the connection's peer.
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}, 2, "10.0.0.2"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-ip"}, 1, "10.0.0.2"),
        ({"REMOTE_ADDR": "10.0.0.2"}, 1, "10.0.0.2"),
        ({"REMOTE_ADDR": "2001:db8::1"}, 0, "2001:db8::1"),
        ({"REMOTE_ADDR": ""}, 0, None),
    ],
)
def test_client_address_rule(meta: dict[str, str], proxies: int, expected: str | None) -> None:
    assert client_ip_from_meta(meta, proxies) == expected
