"""Model explorer: module tree, iterators, parameters, shapes and MACs of a chosen model."""

from ptexplore.pages import MODELS
from ptexplore.ui import models
from ptexplore.ui.lab import lab_page

lab_page(MODELS, setup=models.setup, sections=models.SECTIONS)
