"""ptexplore landing page: what it is, and one card per page of the learning path."""

from ptexplore.ui.landing import render_landing

render_landing()
