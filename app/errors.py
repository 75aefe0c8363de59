"""Domain errors: raised by services and domain code, mapped to HTTP by app.web.errors."""


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "translate later")
    """Mark a message for extraction; it is translated where a person reads it, while the
    domain and the API keep it in English."""
    return message


class DomainError(Exception):
    """A use case could not be carried out; `code` is stable and machine-readable."""

    status = 400
    code = "domain_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state."""

    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    """The input is malformed; `errors` maps field names to messages."""

    status = 422
    code = "validation_failed"

    def __init__(
        self, message: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.errors = errors or {}
