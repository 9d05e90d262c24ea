"""The one domain error type: a ``code`` that names the refusal and ``params`` for its text.

Each area subclasses it with a body-less class and an ``area`` keyword, e.g.
``class StationError(DomainError, area="station")``, so ``except StationError`` still picks
one area while ``bot.core.error_text`` localises every area from one table keyed by
``area.code``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A refusal by the domain; ``code`` says why and ``params`` fill its message."""

    area: ClassVar[str] = "domain"

    def __init_subclass__(cls, *, area: str | None = None, **kwargs: Any) -> None:
        """Give the subclass its ``area`` (subclasses without one inherit their parent's)."""
        super().__init_subclass__(**kwargs)
        if area is not None:
            cls.area = area

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, Any] = params

    @property
    def key(self) -> str:
        """Return the code qualified by its area, the key of its message."""
        return f"{self.area}.{self.code}"

    def __str__(self) -> str:
        if not self.params:
            return self.key
        values = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.key} ({values})"
