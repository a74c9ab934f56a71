"""Augmentation lab: tune torchvision.transforms.v2 pipelines on your own images."""

from ptexplore.pages import AUGMENT
from ptexplore.ui import augment
from ptexplore.ui.lab import lab_page

lab_page(
    AUGMENT,
    intro=(
        "Build a `torchvision.transforms.v2` pipeline, see what it does to **your** photos, "
        "and take the code home. Every image below is produced live by the real transforms, "
        "and each caption lists the random parameters that sample actually drew."
    ),
    body=augment.render_page,
)
