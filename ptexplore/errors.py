"""Errors a learner reads.

Every exception ptexplore raises on purpose is a :class:`LessonError`: its ``str()`` is one
or two plain sentences saying what went wrong, and ``fix`` (when there is one) says what to
do instead. Pages catch it and show it with ``st.error``; nothing else is swallowed.
"""

from __future__ import annotations


class LessonError(Exception):
    """An error with a message written for a learner, plus an optional fix."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if self.fix is None else f"{self.message} Fix: {self.fix}"


class InputError(LessonError):
    """The learner typed or uploaded something ptexplore cannot use."""


class ModelError(LessonError):
    """A model could not be built, traced or loaded."""
