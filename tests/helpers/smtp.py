"""A real SMTP server (aiosmtpd) on loopback that keeps what it accepts, and can refuse."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it accepts.

    ``refusals`` are replies given, in turn, instead of accepting (``"451 ..."``);
    ``hang_ups`` is how many messages to answer by closing the connection mid-DATA.
    """

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    hang_ups: int = 0
    # A slow server: each message is answered after this long.
    delay_seconds: float = 0.0

    # aiosmtpd calls this hook by its upper-case name.
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay_seconds)
        if self.hang_ups:
            self.hang_ups -= 1
            server.transport.close()
            return "250 never heard"
        if self.refusals:
            return self.refusals.pop(0)
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def by_address(self) -> dict[str, EmailMessage]:
        """Each mail by its one recipient; fails if anyone got two."""
        mails: dict[str, EmailMessage] = {}
        for recipients, raw in self.messages:
            [address] = recipients
            assert address not in mails, f"two mails to {address}"
            mails[address] = email.message_from_bytes(  # type: ignore[assignment]
                raw, policy=email.policy.default)
        return mails


@dataclass(frozen=True)
class SmtpServer:
    port: int
    collector: Collector


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.port, collector)
    finally:
        controller.stop()


def body_of(mail: EmailMessage) -> str:
    """The mail's text as a reader sees it (SMTP carries CRLF line ends)."""
    content: str = mail.get_content()
    return content.replace("\r\n", "\n")
