"""view() / reshape lab: shapes, -1, strides and contiguity, computed live by torch."""

from ptexplore.pages import VIEW
from ptexplore.ui import view
from ptexplore.ui.lab import lab_page

lab_page(VIEW, sections=[view.SECTION])
