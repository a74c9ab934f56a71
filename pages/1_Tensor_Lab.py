"""Tensor lab: numpy ↔ tensor memory sharing, .item(), and list-of-arrays conversion speed."""

from ptexplore.i18n import N_
from ptexplore.pages import TENSORS
from ptexplore.ui import tensors
from ptexplore.ui.lab import lab_page

lab_page(
    TENSORS,
    intro=N_(
        "Make a numpy array, turn it into a tensor, then **mutate one side and watch the "
        "other**. Every verdict below is measured on your live objects (`np.shares_memory`, "
        "`data_ptr`), never guessed from the function's name. Your arrays live in your "
        "browser session only."
    ),
    sections=tensors.SECTIONS,
)
