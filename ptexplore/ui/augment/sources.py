"""The images a learner previews: their uploads (kept for the session by
:mod:`ptexplore.ui.uploads`) or the shipped sample photos, decoded once for every session
at the preview size the pipeline allows.

Bounded before anything is decoded: at most ``MAX_UPLOAD_FILES`` files per learner, each
under the upload cap, and at most ``MAX_SESSION_PIXELS`` declared pixels in all. Refused
files are reported right under the uploader, their names made inert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ptexplore.augment.pipeline import Pipeline, preview_source_side
from ptexplore.augment.texts import escaped_error
from ptexplore.errors import InputError, LessonError
from ptexplore.i18n import _
from ptexplore.images.decode import (
    UPLOAD_EXTENSIONS,
    DecodedImage,
    check_session_pixels,
    check_upload_size,
    declared_pixels,
    decode_upload,
)
from ptexplore.images.samples import sample_bytes, sample_names
from ptexplore.limits import MAX_SESSION_PIXELS, MAX_UPLOAD_FILES
from ptexplore.text import md_escape
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.cache import shared
from ptexplore.ui.render import show_error
from ptexplore.ui.state import link_choice
from ptexplore.ui.uploads import Kept, keep, kept

#: this learner's accepted uploads, kept for the session (:func:`ptexplore.ui.uploads.kept`)
UPLOADS = "_uploads"


#: Decoded images shared by every session: at most 16 (≤ 16 × 120 MB at the 40 MP cap).
@shared(16)
def _decode_shared(
    digest: str, name: str, max_short_side: int | None, _data: bytes
) -> DecodedImage:
    """Decode once per (bytes, name, preview size) for every session: re-rolls and edits
    never decode again. The result is frozen and its pixels are only ever read. Decoding
    runs in the sandbox (samples too: one path)."""
    return decode_upload(_data, name=name, max_short_side=max_short_side)


@dataclass(frozen=True, slots=True)
class ImageSources:
    """What the learner gave: accepted uploads, the sample choice, and where to report."""

    uploads: tuple[Kept, ...]  # the files that passed the size checks
    samples: tuple[str, ...]
    messages: DeltaGenerator  # under the uploader: upload errors and the image picker
    picker: DeltaGenerator  # where the sample picker goes (drawn once decoding is known)


@dataclass(frozen=True, slots=True)
class Images:
    """The image previewed (``None`` when nothing could be decoded), and whether it is one
    of the shipped samples."""

    chosen: DecodedImage | None
    using_samples: bool


def image_sources() -> ImageSources:
    """The uploader and the sample picker's place; refused uploads are reported under it."""
    widget = st.file_uploader(
        _("Upload photos (PNG, JPEG, WebP, BMP, GIF, TIFF)"),
        type=list(UPLOAD_EXTENSIONS),
        accept_multiple_files=True,
        key=STATE.key("upload"),
        on_change=keep,
        args=(STATE, "upload", UPLOADS, MAX_UPLOAD_FILES),
        help=_(
            "Up to {n} photos, decoded on this server with explicit formats "
            "and size caps; nothing is stored beyond your session."
        ).format(n=MAX_UPLOAD_FILES),
    )
    # Errors about the uploads and the picker sit right under the uploader; they are
    # filled in later, once the pipeline (which decides the preview size) is known.
    messages = st.container()
    given = list(widget or [])
    files = [Kept(f.name, "", f.getvalue()) for f in given]
    earlier = kept(STATE, UPLOADS)
    if not files and earlier:  # back from another page: the widget is new, the photos are not
        files = list(earlier)
        with messages:
            names = ", ".join(md_escape(f.name, limit=40) for f in earlier)
            st.caption(
                _("Using the photo(s) you uploaded earlier in this session: {names}.").format(
                    names=names
                )
            )
    if len(files) > MAX_UPLOAD_FILES:
        with messages:
            show_error(
                InputError(
                    _(
                        "{n} files were uploaded; the lab uses the first "
                        "{most} (the limit for one learner on a shared server)."
                    ).format(n=len(files), most=MAX_UPLOAD_FILES),
                    fix=_("Remove some photos (✕ in the uploader) to use others."),
                )
            )
        files = files[:MAX_UPLOAD_FILES]
    sources: list[Kept] = []
    for f in files:
        try:
            check_upload_size(len(f.data), f.name)
            sources.append(f)
        except LessonError as err:
            with messages:
                show_error(escaped_error(err, f.name))
    fits = check_session_pixels([declared_pixels(f.data) for f in sources], MAX_SESSION_PIXELS)
    if fits < len(sources):
        dropped = ", ".join(md_escape(f.name, limit=40) for f in sources[fits:])
        with messages:
            show_error(
                InputError(
                    _(
                        "Together these photos declare more than {mp:.0f} "
                        "megapixels, the limit for one learner: not decoded — {dropped}."
                    ).format(mp=MAX_SESSION_PIXELS / 1e6, dropped=dropped),
                    fix=_("Upload fewer or smaller photos (resize big ones to ~12 MP first)."),
                )
            )
        sources = sources[:fits]
    return ImageSources(
        uploads=tuple(sources),
        samples=sample_names(),
        messages=messages,
        picker=st.container(),
    )


def _sample_picker(sources: ImageSources, *, uploads_used: bool) -> str:
    with sources.picker:
        choice = st.selectbox(
            _("…or a sample photo"),
            sources.samples,
            disabled=uploads_used,
            help=_(
                "Freely licensed photos shipped with ptexplore (see About in the sidebar). "
                "Remove your uploads (✕) to use one."
            )
            if uploads_used
            else _("Freely licensed photos shipped with ptexplore (see About in the sidebar)."),
            **STATE.widget("sample", default=sources.samples[0], url=link_choice(sources.samples)),
        )
    return str(choice)


def _decode_all(
    files: Sequence[Kept], max_side: int | None, messages: DeltaGenerator
) -> list[DecodedImage]:
    out = []
    for f in files:
        try:
            digest = f.sha256 or hashlib.sha256(f.data).hexdigest()
            out.append(_decode_shared(digest, f.name, max_side, f.data))
        except LessonError as err:
            with messages:
                show_error(escaped_error(err, f.name))
    return out


def load_images(sources: ImageSources, pipeline: Pipeline, *, fullres: bool) -> Images:
    """Decode the uploads (or the chosen sample photo) at the preview size this pipeline
    allows; with several uploads, the picker under the uploader chooses the one to preview."""
    side = None if fullres else preview_source_side(pipeline)
    decoded = _decode_all(sources.uploads, side, sources.messages)
    sample = _sample_picker(sources, uploads_used=bool(decoded))
    if not decoded:
        found = _decode_all([Kept(sample, "", sample_bytes(sample))], side, sources.messages)
        chosen = found[0] if found else None
        if sources.uploads and chosen is not None:
            with sources.picker:
                st.caption(
                    _(
                        "None of your uploads could be used (see above): the preview shows the "
                        "sample photo **{name}** instead."
                    ).format(name=md_escape(chosen.name))
                )
        return Images(chosen=chosen, using_samples=True)
    pick = 0
    if len(decoded) > 1:
        with sources.messages:
            pick = int(
                st.selectbox(
                    _("Image to preview"),
                    range(len(decoded)),
                    format_func=lambda i: f"{i + 1}. {decoded[i].name}",
                    **STATE.widget("image", reset_on=tuple(d.digest for d in decoded)),
                )
                or 0
            )
    return Images(chosen=decoded[min(pick, len(decoded) - 1)], using_samples=False)
