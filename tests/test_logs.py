"""Client addresses are masked in every log line; times, versions of things and ports alone are not."""

from __future__ import annotations

import logging

import pytest

from assistant.webui import RedactIPs, mask_ips


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('127.0.0.1:54321 - "WebSocket /ws/socket.io/" [accepted]', '[ip] - "WebSocket /ws/socket.io/" [accepted]'),
        ("client 203.0.113.7 connected", "client [ip] connected"),
        ("from [2001:db8::1]:443", "from [ip]"),
        ("peer ::1 closed", "peer [ip] closed"),
        ("fe80::1%eth0 link-local", "[ip] link-local"),
        ("retention purge at 16:54:58 done", "retention purge at 16:54:58 done"),
        ("opened 2026-12-03 09:05:00.123", "opened 2026-12-03 09:05:00.123"),
        ("12:00 Uhr, Raum 10:20:30:40", "12:00 Uhr, Raum 10:20:30:40"),
        ("not an address 999.1.1.1", "not an address 999.1.1.1"),
    ],
)
def test_mask_ips(line: str, masked: str) -> None:
    assert mask_ips(line) == masked


def test_the_filter_masks_arguments_and_address_tuples() -> None:
    record = logging.LogRecord(
        "uvicorn", logging.INFO, "", 0, "%s - %s at %s", (("10.1.2.3", 5), "x", "16:54:58"), None
    )
    RedactIPs().filter(record)
    assert record.getMessage() == "('[ip]', 5) - x at 16:54:58"
