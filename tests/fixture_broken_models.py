"""A module of models that fails on import (``tests.fixture_broken_models:Net``)."""

raise RuntimeError("this test module fails on import, on purpose")
