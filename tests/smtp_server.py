"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd), recording what arrives."""
from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: ANN001
        if address.startswith("onbekend@"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001 - aiosmtpd's hook
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [message["Message-ID"] for message in self.messages]


class SmtpServer:
    """Start and stop at will on a fixed port, to play a mail server that goes down and up."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.recorder = Recorder()
        self.controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
