"""The parameter widgets' pure side: typed text checked, tooltips, which widget, notes."""

from __future__ import annotations

import numpy as np
import pytest

from ptexplore.augment.catalog import spec_for
from ptexplore.augment.params import (
    added_note,
    number_box_step,
    param_help,
    parse_widget,
    show,
    widget_value,
)
from ptexplore.augment.pipeline import pixel_domains, train_preset
from ptexplore.errors import InputError
from ptexplore.images import for_screen
from ptexplore.text import md_escape


def test_names_are_escaped_shrunk_for_screen_and_parameters_explained() -> None:

    assert md_escape("[x](javascript:y)_*.png") == r"\[x\]\(javascript\:y\)\_\*.png"
    assert md_escape("holiday-2.jpg") == "holiday-2.jpg"
    big = np.zeros((3000, 4000, 3), dtype=np.uint8)
    big[:, 2000:] = 200
    small = for_screen(big)
    assert small.shape == (720, 960, 3) and int(small[0, 0, 0]) == 0 and int(small[0, -1, 0]) == 200
    tile = np.ones((224, 224, 3), dtype=np.uint8)
    assert for_screen(tile) is tile
    assert param_help(spec_for("ColorJitter").param("brightness")) == (
        "Factor drawn from [1-b, 1+b] (0 = off). torchvision default: None (here 0). "
        "Allowed: 0 to 2."
    )
    blur = param_help(spec_for("GaussianBlur").param("kernel_size"))
    assert "no default (required); the lab starts at 5." in blur and blur.endswith("odd only.")
    assert param_help(spec_for("RandomResizedCrop").param("scale")).count("(0.08, 1)") == 1


def test_typed_values_round_trip_and_bad_text_is_explained() -> None:
    size = spec_for("RandomResizedCrop").param("size")
    assert parse_widget(size, widget_value(size, (96, 128))) == (96, 128)
    assert parse_widget(size, "224") == 224
    with pytest.raises(InputError, match="not a whole number"):
        parse_widget(size, "22.5")
    fill = spec_for("RandomErasing").param("value")
    assert parse_widget(fill, " Random ") == "random"
    assert parse_widget(fill, "0.5") == 0.5
    assert show((0.08, 1.0)) == "(0.08, 1)" and show(0.5) == "0.5"


def test_wide_float_ranges_get_a_number_box_and_fills_move_in_hundredths() -> None:
    threshold = spec_for("RandomSolarize").param("threshold")
    assert number_box_step(threshold, None) == 1.0
    assert number_box_step(spec_for("RandomHorizontalFlip").param("p"), None) is None
    fill = spec_for("Pad").param("fill")
    after_normalize = pixel_domains(train_preset())[-1]
    assert number_box_step(fill, after_normalize) == 0.01


def test_added_note_names_the_visible_values_and_torchvisions_defaults() -> None:
    note = added_note("ColorJitter", 2, {"brightness": 0.4})
    assert note is not None and note.startswith("Added ColorJitter at position 3")
    assert "brightness=0.4" in note and "(brightness=0)" in note
    assert added_note("RandomHorizontalFlip", 0, {}) is None


def test_a_size_with_too_many_sides_is_named_in_the_reruns_language() -> None:
    from ptexplore import i18n
    from ptexplore.augment.params import numbers
    from ptexplore.i18n import Lang

    with pytest.raises(InputError) as english:
        numbers("224, 160, 3", int)
    assert str(english.value).startswith("The size has 3 dimensions")
    with i18n.language(Lang.ZH), pytest.raises(InputError) as chinese:
        numbers("224, 160, 3", int)
    assert str(chinese.value).startswith("尺寸有 3 个维度")  # was "size有 3 个维度"
