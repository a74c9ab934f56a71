"""What the Augmentation lab says about an image and its preview, in markdown (no
Streamlit here): the image's line, why the preview is a downscaled copy, the preset notes,
the Resize truth's caption and file names made inert inside messages.

The constants are English, marked with ``N_``: translate them where they are read
(``_(PRESET_HELP)``); the functions return text in the language of the current rerun."""

from __future__ import annotations

from ptexplore.errors import LessonError
from ptexplore.i18n import N_, _
from ptexplore.images.decode import DecodedImage
from ptexplore.text import md_escape

PRESET_HELP = N_(
    "train = RandomResizedCrop(224) + flip + ToTensor + Normalize; "
    "val = Resize(256) + CenterCrop(224) + ToTensor + Normalize. "
    "Any edit makes it custom; it shows train/val again whenever the steps equal one."
)
CUSTOM_LINK_NOTE = N_(
    "This link was made from a custom pipeline, and an address carries only the "
    "train or val preset: the train preset is shown. To share a custom pipeline, "
    "export its JSON (📦 Export tab) and import it here."
)
NO_IMAGE = N_("No usable image: upload a photo or pick a sample.")
#: The Truths tab's pointer to the DataLoader lab, which runs this lesson in workers.
GROWTH_NOTE = N_(
    "A transform changes *which* version of an item you see in each epoch, never *how many* "
    "items there are (`len(dataset)` stays the same; only `ConcatDataset` adds items): the "
    "DataLoader lab runs it for real, epoch after epoch, in worker processes."
)
AFTER_NORMALIZE = N_(
    "{name} runs after Normalize: it receives normalised values (about −2…2.6, not 0–1), so "
    "colour steps wash the picture out and fills land in the wrong units. Move it above the "
    "ToDtype/Normalize steps (↑)."
)


def still_equals_note(label: str) -> str:
    """Said when the learner picks “custom” while the steps still equal a preset
    (``label``: the preset's value, ``"train"`` or ``"val"``)."""
    return _(
        "The pipeline still equals the {label} preset. “custom” is whatever you build: "
        "edit, add, remove or reorder a step below and the preset becomes custom."
    ).format(label=_(label))


def escaped_error(err: LessonError, name: str) -> LessonError:
    """``err`` (a copy, of the same class and with the same attributes) with the raw file
    ``name`` in its message replaced by its escaped form."""
    out = LessonError.__new__(type(err))
    out.__dict__.update(err.__dict__)
    out.args = (out.message,) = (err.message.replace(name, md_escape(name)),)
    return out


def image_line(image: DecodedImage) -> str:
    """Name, format, mode and size (frames too, for an animation) in one markdown line."""
    ow, oh = image.original_size
    fields = {
        "name": md_escape(image.name),
        "format": image.format,
        "mode": image.original_mode,
        "w": ow,
        "h": oh,
    }
    if image.n_frames > 1:
        return _("**{name}** · {format} · mode {mode} · {w}×{h} · {frames} frames").format(
            frames=image.n_frames, **fields
        )
    return _("**{name}** · {format} · mode {mode} · {w}×{h}").format(**fields)


def downscaled_note(image: DecodedImage, *, keeps_size: bool) -> str:
    """Why the preview was made from a smaller copy, and how to get full-size tensors."""
    ow, oh = image.original_size
    w, h = image.size
    why = (
        _(
            "This pipeline keeps the input size (no Resize / RandomResizedCrop), so on the "
            "full image every sample would be {ow}×{oh}; its steps (flips, colour, relative "
            "geometry) look the same on the copy, shown here at the copy's size."
        ).format(ow=ow, oh=oh)
        if keeps_size
        else _("The pipeline resamples to a fixed size anyway, so the grid looks the same.")
    )
    return _(
        "Preview made from a **downscaled copy**: {ow}×{oh} → {w}×{h} "
        "({scale:.0%}). {why} Crop boxes and shifts are in the copy's pixels. "
        "Turn on *Full-resolution preview* in the sidebar for exact full-size tensors."
    ).format(ow=ow, oh=oh, w=w, h=h, scale=image.scale, why=why)


def resize_caption(width: int, height: int) -> str:
    """What ``Resize(256)`` did, said under the truths' numbers (and why a square stayed
    square, for a square image)."""
    if width == height:
        return _(
            "Both computed by `v2.Resize(256)` just now: it scales the shorter side to 256 and "
            "keeps the aspect ratio. This image is square ({width}×{height}), so keeping its "
            "aspect ratio happens to give a square too — a 400×300 photo shows the difference. "
            "Pass `(256, 256)` if you really want a square (and a distorted aspect ratio)."
        ).format(width=width, height=height)
    return _(
        "Both computed by `v2.Resize(256)` just now: it scales the shorter side to 256 and "
        "keeps the aspect ratio. Pass `(256, 256)` if you really want a square (and "
        "a distorted aspect ratio)."
    )


def export_intro(*, downscaled: bool) -> str:
    """The Export tab's first line: are the script's tensors the grid's, bit for bit?"""
    if downscaled:
        return _(
            "Runnable Python and JSON. The grid was drawn from a downscaled copy, so "
            "the script (which loads the full image) draws the same kind of samples, "
            "not bit-identical tensors; turn on *Full-resolution preview* for those."
        )
    return _("Runnable Python (same seed and image → the same tensors as the grid) and JSON.")


FATES_NOTE = N_(
    "**moved**: the step moved or resized it; **clipped**: part of it left the canvas and "
    "was cut at the edge (the same step on a copy of the boxes with clamping off puts it "
    "further out); **degenerate**: thinner or lower than 1 px — still in the target, a "
    "useless one, until `SanitizeBoundingBoxes` removes it; **removed**: taken out by "
    "`SanitizeBoundingBoxes`, with its label and its mask."
)
