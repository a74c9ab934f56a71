"""DataLoader lab: __getitem__ under real worker processes, seeds, splits, ConcatDataset."""

from ptexplore.i18n import N_
from ptexplore.pages import DATA
from ptexplore.ui import data
from ptexplore.ui.lab import lab_page

lab_page(
    DATA,
    intro=N_(
        "A real `Dataset` through a real `DataLoader`: **worker processes** start on this "
        "server, every `__getitem__` call is recorded (index, worker, process, time), and "
        "each tab runs the code it shows. Orders, ids and counts are the same on every run; "
        "timings are measured live and vary."
    ),
    sections=data.SECTIONS,
)
