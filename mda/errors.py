"""Domain exceptions. Their messages are Dutch because they are shown to users as-is."""
from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; ``str(exc)`` is the user-facing message."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError, ValueError):
    """A value does not meet the rules (for example a BSN that fails the eleven-test)."""


class InvalidTransition(DomainError):
    """A phase, AVE or status change that the rules do not allow."""


class StaleVersion(DomainError):
    """Someone else changed the record since it was loaded."""

    status_code = 409

    def __init__(self, message: str = "Dit dossier is intussen door iemand anders gewijzigd. "
                                      "Laad de pagina opnieuw en voer uw wijziging opnieuw in."):
        super().__init__(message)


class NotPermitted(DomainError):
    status_code = 403

    def __init__(self, message: str = "U heeft geen toegang tot deze gegevens."):
        super().__init__(message)
