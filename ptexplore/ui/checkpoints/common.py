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
from ptexplore.models import catalog, weights
from ptexplore.pages import CHECKPOINTS
from ptexplore.ui import uploads
from ptexplore.ui.render import inert
from ptexplore.ui.state import PageState, link_choice, link_int

STATE = PageState(CHECKPOINTS)
SAVE_TAB, INSPECT_TAB, LOAD_TAB = "💾 Save", "🔍 Inspect", "🔌 Load"
#: the kept upload — survives the tab closing and page switches
UPLOAD = "_upload"
UPLOAD_TYPES = ["pt", "pth", "ckpt", "bin", "safetensors"]
UPLOAD_HELP = (
    "Read by its bytes, never its name, with torch.load(weights_only=True) or safetensors, "
    "after every size and count is checked: a file that would run code, or claims more than "
    "it holds, is refused."
)


def labels() -> dict[str, str]:
    return dict(catalog.choices())


def mb(n: int) -> str:
    if n < 2**20:
        return f"{n:,} bytes"
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.2f} GB"


def heavy_label(key: str, what: str) -> str | None:
    """A label (run under the semaphore) for a torchvision model; the example models
    build, train one step and save in a few ms (measured: SmallVGG ≈ 10 ms)."""
    return None if key.startswith(catalog.EXAMPLE_PREFIX) else f"{what} {key}"


def no_file(origin: Origin, upload: Upload | None, hub: str | None) -> bool:
    """The learner picked a file source but there is no file yet (nothing to compute)."""
    return (origin is Origin.UPLOAD and upload is None) or (origin is Origin.HUB and hub is None)


def model_picker(name: str, label: str = "Model", default: str = DEFAULT_MODEL) -> str:
    keys = list(lab_models())
    names = labels()
    return str(
        st.selectbox(
            label,
            keys,
            format_func=lambda k: names.get(k, k),
            help="Small models only: each lesson builds a private copy for real.",
            **STATE.widget(name, default=default, url=link_choice(keys)),
        )
    )


def classes_input(name: str, key: str, default: int, label: str = "num_classes") -> int | None:
    if not catalog.entry(key).takes_num_classes:
        st.caption(f"{inert(catalog.entry(key).label)} has a fixed output size.")
        return None
    return int(
        st.number_input(
            label,
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
        "A checkpoint: .pth, .pt, .bin, Lightning .ckpt or .safetensors",
        type=UPLOAD_TYPES,
        help=UPLOAD_HELP,
        key=STATE.key(widget),
        on_change=uploads.keep,
        args=(STATE, widget, UPLOAD),
    )
    kept = uploads.kept(STATE, UPLOAD)
    if not kept:
        st.caption("No file yet. Nothing you upload leaves this server session.")
        return None
    if st.session_state.get(STATE.key(widget)) is None:
        st.caption(f"Using {inert(kept[0].name)}, uploaded earlier in this session.")
    return Upload(kept[0].name, kept[0].sha256, kept[0].data)


def origin_radio(name: str) -> Origin:
    return Origin(
        st.radio(
            "Checkpoint",
            [o.value for o in Origin],
            horizontal=True,
            **STATE.widget(name, default=Origin.MADE.value, url=Origin),
            help="Made here: the script builds and saves it (it runs anywhere). Nothing is "
            "ever downloaded.",
        )
    )


def saved_as_picker(name: str, default: SavedAs) -> SavedAs:
    return SavedAs(
        st.selectbox(
            "saved as",
            [s.value for s in SavedAs],
            format_func=lambda v: SavedAs(v).label,
            **STATE.widget(name, default=default.value, url=SavedAs),
        )
    )


def hub_help(key: str | None = None) -> None:
    where = hub_checkpoints_dir()
    name = weights.hub_filename(key) if key and not key.startswith("example:") else None
    how = (
        f"`from torchvision import models; models.{key}(weights='DEFAULT')` downloads "
        f"{inert(name)} there once"
        if key and name
        else "`from torchvision import models; models.resnet18(weights='DEFAULT')` (any "
        "model) downloads its weights there once"
    )
    st.info(
        f"No checkpoint in the torch hub cache {inert(where, limit=120)}. {how}, in your own "
        "Python (nothing is downloaded here). Meanwhile: made here, or upload a file.",
        icon="📦",
    )


def render_zip(layout: ZipLayout, table: pd.DataFrame) -> None:
    st.markdown(
        f"A **zip archive** of {len(layout.entries)} entries, every one **stored** "
        "(uncompressed): `data.pkl` is the object tree, each `data/<key>` the raw bytes of "
        "one storage, aligned so they can be memory-mapped."
    )
    st.dataframe(table, hide_index=True, height=280)
    st.caption(
        f"Before each entry's data: its local header ({layout.headers:,} bytes in all, "
        f"with alignment padding); at byte {layout.directory.offset:,}: "
        f"{layout.directory.what}."
    )


def render_safetensors(layout: SafetensorsLayout, table: pd.DataFrame) -> None:
    st.markdown(
        f"**8 bytes** `{layout.length_bytes}` = N = **{layout.header_length:,}** "
        f"(little-endian), then **N bytes of JSON**, then the raw tensor bytes from byte "
        f"{layout.data_start:,}: each tensor's `data_offsets` count from there."
    )
    st.code(layout.header_pretty, language="json", height=240)
    st.caption("The header, indented for reading (the file stores it on one line).")
    st.dataframe(table, hide_index=True, height=240)
