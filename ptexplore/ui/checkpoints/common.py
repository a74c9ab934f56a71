"""What the Checkpoint lab's tabs share: its state, the model and source pickers, the one
upload both the Inspect and the Load tab use (kept across page switches), and the drawing of
a file's layout."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ptexplore import limits
from ptexplore.checkpoints.inspector import hub_checkpoints_dir
from ptexplore.checkpoints.lessons import DEFAULT_MODEL, Origin, SavedAs, Upload, lab_models
from ptexplore.ckpt.layout import SafetensorsLayout, ZipLayout
from ptexplore.i18n import N_, _
from ptexplore.models import catalog, weights
from ptexplore.pages import CHECKPOINTS
from ptexplore.ui import uploads
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.render import inert
from ptexplore.ui.state import PageState, link_choice, link_int

STATE = PageState(CHECKPOINTS)
SAVE_TAB, INSPECT_TAB, LOAD_TAB = N_("💾 Save"), N_("🔍 Inspect"), N_("🔌 Load")
#: the kept upload — survives the tab closing and page switches
UPLOAD = "_upload"
UPLOAD_TYPES = ["pt", "pth", "ckpt", "bin", "safetensors"]
UPLOAD_HELP = N_(
    "Read by its bytes, never its name, with torch.load(weights_only=True) or safetensors, "
    "after every size and count is checked: a file that would run code, or claims more than "
    "it holds, is refused."
)


def mb(n: int) -> str:
    if n < 2**20:
        return _("{n:,} bytes").format(n=n)
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.2f} GB"


def heavy_label(key: str, what: str) -> str | None:
    """A label (run under the semaphore) for a torchvision model; the example models
    build, train one step and save in a few ms (measured: SmallVGG ≈ 10 ms). ``what`` is
    English with a ``{model}`` field, marked with ``N_`` (translated here)."""
    return None if key.startswith(catalog.EXAMPLE_PREFIX) else _(what).format(model=key)


def no_file(origin: Origin, upload: Upload | None, hub: str | None) -> bool:
    """The learner picked a file source but there is no file yet (nothing to compute)."""
    return (origin is Origin.UPLOAD and upload is None) or (origin is Origin.HUB and hub is None)


def model_picker(name: str, label: str = N_("Model"), default: str = DEFAULT_MODEL) -> str:
    keys = list(lab_models())
    return str(
        st.selectbox(
            _(label),
            keys,
            format_func=catalog.shown_labels(keys),
            help=_("Small models only: each lesson builds a private copy for real."),
            **STATE.widget(name, default=default, url=link_choice(keys)),
        )
    )


def classes_input(name: str, key: str, default: int, label: str = "num_classes") -> int | None:
    if not catalog.entry(key).takes_num_classes:
        st.caption(
            _("{model} has a fixed output size.").format(model=inert(catalog.shown_name(key)))
        )
        return None
    return int(
        st.number_input(
            _(label),
            min_value=1,
            max_value=limits.MAX_NUM_CLASSES,
            step=1,
            **STATE.widget(
                name,
                default=default,
                url=link_int(1, limits.MAX_NUM_CLASSES),
            ),
        )
    )


def upload_widget(widget: str) -> Upload | None:
    """The uploader (both tabs keep the same file) and the kept upload."""
    st.file_uploader(
        _("A checkpoint: .pth, .pt, .bin, Lightning .ckpt or .safetensors"),
        type=UPLOAD_TYPES,
        help=_(UPLOAD_HELP),
        key=STATE.key(widget),
        on_change=uploads.keep,
        args=(STATE, widget, UPLOAD),
    )
    kept = uploads.kept(STATE, UPLOAD)
    if not kept:
        st.caption(_("No file yet. Nothing you upload leaves this server session."))
        return None
    if st.session_state.get(STATE.key(widget)) is None:
        st.caption(
            _("Using {name}, uploaded earlier in this session.").format(name=inert(kept[0].name))
        )
    return Upload(kept[0].name, kept[0].sha256, kept[0].data)


def origin_radio(name: str) -> Origin:
    return Origin(
        st.radio(
            _("Checkpoint"),
            [o.value for o in Origin],
            format_func=shown(choices(Origin)),
            horizontal=True,
            **STATE.widget(name, default=Origin.MADE.value, url=Origin),
            help=_(
                "Made here: the script builds and saves it (it runs anywhere). Nothing is "
                "ever downloaded."
            ),
        )
    )


def saved_as_picker(name: str, default: SavedAs) -> SavedAs:
    return SavedAs(
        st.selectbox(
            _("saved as"),
            [s.value for s in SavedAs],
            format_func=shown(choices(SavedAs), lambda s: s.label),
            **STATE.widget(name, default=default.value, url=SavedAs),
        )
    )


def hub_help(key: str | None = None) -> None:
    where = hub_checkpoints_dir()
    name = weights.hub_filename(key) if key and not key.startswith("example:") else None
    if key and name:
        code = f"`from torchvision import models; models.{key}(weights='DEFAULT')`"
        how = _("{code} downloads {name} there once").format(code=code, name=inert(name))
    else:
        how = _(
            "`from torchvision import models; models.resnet18(weights='DEFAULT')` (any "
            "model) downloads its weights there once"
        )
    st.info(
        _(
            "No checkpoint in the torch hub cache {where}. {how}, in your own "
            "Python (nothing is downloaded here). Meanwhile: made here, or upload a file."
        ).format(where=inert(where, limit=120), how=how),
        icon="📦",
    )


def render_zip(layout: ZipLayout, table: pd.DataFrame) -> None:
    st.markdown(
        _(
            "A **zip archive** of {n} entries, every one **stored** "
            "(uncompressed): `data.pkl` is the object tree, each `data/<key>` the raw bytes of "
            "one storage, aligned so they can be memory-mapped."
        ).format(n=len(layout.entries))
    )
    st.dataframe(table, hide_index=True, height=280)
    st.caption(
        _(
            "Before each entry's data: its local header ({headers:,} bytes in all, "
            "with alignment padding); at byte {offset:,}: {what}."
        ).format(headers=layout.headers, offset=layout.directory.offset, what=layout.directory.what)
    )


def render_safetensors(layout: SafetensorsLayout, table: pd.DataFrame) -> None:
    st.markdown(
        _(
            "**8 bytes** {bytes} = N = **{n:,}** "
            "(little-endian), then **N bytes of JSON**, then the raw tensor bytes from byte "
            "{start:,}: each tensor's `data_offsets` count from there."
        ).format(bytes=f"`{layout.length_bytes}`", n=layout.header_length, start=layout.data_start)
    )
    st.code(layout.header_pretty, language="json", height=240)
    st.caption(_("The header, indented for reading (the file stores it on one line)."))
    st.dataframe(table, hide_index=True, height=240)
