"""A lab script run step by step in one namespace, so the lab can look between steps.

Code shown = code run: the page's code panel is the steps' text joined in order, and its
output is what the steps printed. Running them one at a time (with
:func:`ptexplore.live.run`, in one namespace) is what running the joined text does, but it
lets the lab read values between steps that a later step changes or frees (the saved
tensors ``backward()`` frees, a version counter before and after an in-place write).

Two kinds of step are not run verbatim, and say so:

* a *seeded* step shows ``torch.manual_seed(s)`` above its code and runs the code under
  :func:`ptexplore.rng.seeded` (the same seeding, under the process-wide RNG lock, global
  state restored after): for a Dropout mask or a model's random init, which only read
  torch's global RNG;
* a *provided* step shows the code that makes some objects, and the lab supplies objects
  made by an equivalent library call instead (``catalog.build_real(key, seed=s)`` runs
  the same constructor under the same seed).

A step that raises is a bug in the lab (scripts catch the errors they are about), so
:meth:`Script.run` raises it again rather than continuing past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ptexplore import live
from ptexplore.rng import seeded


@dataclass(frozen=True, slots=True)
class Step:
    """One piece of the script: ``code`` (ends with a newline), optionally seeded."""

    code: str
    seed: int | None = None
    #: the comment shown after ``torch.manual_seed(s)``
    why: str = "the next call draws from torch's global RNG"

    @property
    def shown(self) -> str:
        if self.seed is None:
            return self.code
        return f"torch.manual_seed({self.seed})  # {self.why}\n{self.code}"


class ScriptError(RuntimeError):
    """A lab script raised where it was not meant to: a bug in the lab."""


class Script:
    """Steps run one after another in one namespace, as the joined script would run."""

    __slots__ = ("_code", "_output", "namespace")

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self._code: list[str] = []
        self._output: list[str] = []

    def run(self, step: Step | str) -> live.Run:
        """Run one step (a plain string is an unseeded step) and record it."""
        if isinstance(step, str):
            step = Step(step)
        if step.seed is None:
            ran = live.run(step.code, self.namespace)
        else:
            with seeded(step.seed):
                ran = live.run(step.code, self.namespace)
        self._code.append(step.shown)
        self._output.append(ran.output)
        if ran.exception is not None:
            raise ScriptError(f"a lab script step raised {ran.error}") from ran.exception
        return ran

    def provide(self, shown: str, **objects: Any) -> None:
        """Record code the lab did not run itself; ``objects`` are what it makes."""
        self._code.append(shown)
        self.namespace.update(objects)

    def __getitem__(self, name: str) -> Any:
        return self.namespace[name]

    @property
    def code(self) -> str:
        """The steps, one blank line apart — two after a step that ends with a top-level
        class or function (PEP 8), such as a pasted model class."""
        out = []
        for k, part in enumerate(self._code):
            if k:
                out.append("\n\n" if _ends_with_definition(self._code[k - 1]) else "\n")
            out.append(part.rstrip("\n") + "\n")
        return "".join(out)

    @property
    def output(self) -> str:
        return "".join(self._output)

    def snippet(self, note: str = "") -> live.Snippet:
        return live.Snippet(self.code, self.output, note)


def _ends_with_definition(part: str) -> bool:
    top = [ln for ln in part.splitlines() if ln[:1] not in ("", " ", "\t", "#", ")", "]")]
    return bool(top) and top[-1].startswith(("class ", "def ", "@"))
