"""Checkpoint lab: save, inspect and (partially) load state_dicts — safely, with proof."""

from ptexplore.pages import CHECKPOINTS
from ptexplore.ui import checkpoints
from ptexplore.ui.lab import lab_page

lab_page(CHECKPOINTS, intro=checkpoints.INTRO, sections=checkpoints.SECTIONS)
