"""Errors a learner reads.

Every exception ptexplore raises on purpose is a :class:`LessonError`: its ``message`` is one
or two plain sentences saying what went wrong, and its ``fix`` says what to do instead —
always both (the constructor requires the fix). When torch itself refuses something the
lesson is *about* (``view`` on a transposed tensor, ``.numpy()`` on a tensor that requires
grad), the result carries a :class:`Refusal` instead: torch's own exception type and words,
the lesson and the fix. Pages show both through one renderer (``ptexplore.ui.render``).
"""

from __future__ import annotations

from dataclasses import dataclass


class LessonError(Exception):
    """An error with a message written for a learner, and what to do instead."""

    def __init__(self, message: str, *, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}"


class InputError(LessonError):
    """The learner typed or uploaded something ptexplore cannot use."""


class ModelError(LessonError):
    """A model could not be built, traced or loaded."""


class Cancelled(LessonError):
    """This run was stopped because the same learner started a newer one."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """torch (or numpy) refused a call the lesson makes on purpose.

    ``kind`` and ``message`` are the library's own exception type and words, verbatim;
    ``lesson`` says why it refuses, ``fix`` what works instead.
    """

    kind: str
    message: str
    lesson: str
    fix: str

    @property
    def line(self) -> str:
        """``RuntimeError: …`` as Python prints the last line of the traceback."""
        return f"{self.kind}: {self.message}" if self.message else self.kind
