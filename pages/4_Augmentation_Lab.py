"""Augmentation lab: tune torchvision.transforms.v2 pipelines on your own images."""

from ptexplore.pages import AUGMENT
from ptexplore.ui import augment
from ptexplore.ui.lab import lab_page

lab_page(AUGMENT, intro=augment.INTRO, setup=augment.setup, sections=augment.SECTIONS)
