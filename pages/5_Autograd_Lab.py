"""Autograd lab: the real graph behind detach() and no_grad(), and freezing for fine-tuning."""

from ptexplore.i18n import N_
from ptexplore.pages import AUTOGRAD
from ptexplore.ui import autograd
from ptexplore.ui.lab import lab_page

lab_page(
    AUTOGRAD,
    intro=N_(
        "Shape a small computation, cut it with `.detach()` or `torch.no_grad()`, and see "
        "**the real autograd graph** — walked from `grad_fn` through `next_functions`, as "
        "`backward()` walks it — with every leaf's `.grad` checked against the formula. "
        "Then the truths people get wrong about `detach()`, and freezing a real model for "
        "fine-tuning. Every value is read off the tensors the shown code made on this server."
    ),
    sections=autograd.SECTIONS,
)
