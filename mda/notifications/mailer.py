"""Handing an e-mail to the SMTP server configured in the settings (or, in the demo, to a
mailbox kept in memory and printed, so nobody needs a mail server to see what would go out)."""
from __future__ import annotations

import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from ..config import MailSettings
from ..timeutil import utcnow


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): retrying will not help."""


def build_message(*, sender: str, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id   # the same on every attempt: a repeat is recognisable
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


class SmtpTransport:
    def __init__(self, settings: MailSettings) -> None:
        if not settings.host:
            raise ValueError("SMTP_HOST is not set")
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        context = ssl.create_default_context()
        try:
            if s.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            with client:
                if s.security == "starttls":
                    client.starttls(context=context)
                if s.username:
                    client.login(s.username, s.password or "")
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("SMTPRecipientsRefused") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentFailure(f"{type(exc).__name__} {exc.smtp_code}") from exc
            raise


class DemoMailbox:
    """Keeps what would have been sent and prints it; the demo has no mail server."""

    def __init__(self, echo: bool = True) -> None:
        self.messages: list[EmailMessage] = []
        self.echo = echo
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.messages.append(message)
        if self.echo:
            print(f"\n[demo-e-mail, niet verzonden] Aan: {message['To']}\nOnderwerp: {message['Subject']}\n"
                  f"{message.get_content()}", file=sys.stdout, flush=True)


def transport_for(settings: MailSettings, mode: str) -> Transport | None:
    """The configured SMTP server; in the demo without one, the printing mailbox; else nothing
    (mails then wait in the outbox, visible to the functional administrator)."""
    if settings.host:
        return SmtpTransport(settings)
    if mode == "demo":
        return DemoMailbox()
    return None
