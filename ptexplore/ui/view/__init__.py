"""The view()/reshape lab: widgets → ``ViewRequest`` → ``run_lab`` → ``LabResult`` →
render → the lab's own script as the code panel. One :class:`~ptexplore.ui.lab.Section`.

* :mod:`~ptexplore.ui.view.controls` — the widgets and the learner's writes;
* :mod:`~ptexplore.ui.view.draw` — the verdict, the tensors, the storage, the write box.
"""

from __future__ import annotations

from dataclasses import dataclass

from ptexplore.errors import InputError
from ptexplore.live import Snippet
from ptexplore.ui.lab import Section
from ptexplore.ui.render import show_error
from ptexplore.ui.view.controls import controls, current_writes
from ptexplore.ui.view.draw import numpy_note, side_by_side, storage_rows, verdict, write_box
from ptexplore.view import LabConfig, LabResult, run_lab
from ptexplore.view.lab import run_source


@dataclass(frozen=True, slots=True)
class ViewRequest:
    """Everything one run of the lab depends on: the widgets' config, this learner's
    writes for it, and the note about a write clicked together with a settings change."""

    lab: LabConfig
    writes: tuple[tuple[int, int], ...]
    note: str | None
    #: the call's own input (the target shape) did not parse: shown in place of y
    call_error: InputError | None = None


def request(_shared: object) -> ViewRequest:
    config, call_error = controls()
    if call_error is not None:
        return ViewRequest(config, (), None, call_error)
    writes, note = current_writes(config)
    return ViewRequest(config, tuple(writes), note)


def compute(req: ViewRequest) -> LabResult:
    if req.call_error is not None:
        return run_source(req.lab)
    return run_lab(req.lab, req.writes)


def render(req: ViewRequest, result: LabResult, _views: None) -> None:
    """Everything below the controls, in page order."""
    if req.call_error is not None:
        show_error(req.call_error)
    else:
        verdict(result)
    side_by_side(result)
    storage_rows(result)
    if req.call_error is None:
        write_box(result, req.note)
        numpy_note(result)


def code(_req: ViewRequest, result: LabResult) -> Snippet:
    return result.snippet


SECTION: Section[ViewRequest, LabResult] = Section("lab", request, compute, render, code)


__all__ = ["SECTION", "ViewRequest"]
