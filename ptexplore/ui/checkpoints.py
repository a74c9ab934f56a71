"""The Checkpoint lab on the skeleton: three lazy tabs, one :class:`Section` each.

* 💾 Save — ``torch.save`` a private catalog model (its state_dict, or a checkpoint dict
  with the fields the learner fills and optionally the optimizer's state after one step)
  and the same weights as safetensors; both files' real layout; both downloadable;
* 🔍 Inspect — a made-here file, an upload or a torch hub cache file, inspected without
  reading its tensor data: format, structure, every tensor, counts per dtype;
* 🔌 Load — a checkpoint against a private target model, key by key, then one recipe run
  live (strict=True, strict=False, the partial load, the broken recipe, one layer) and
  proven by comparing every tensor with its value before.

Every section is pure by its config (an upload is compared by name and digest), so a rerun
with nothing changed computes nothing; building and saving models runs under the shared
semaphore. The upload is kept in this session's state: it survives closing its tab and
switching pages, and both the Inspect and the Load tab use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from ptexplore import limits
from ptexplore.checkpoints.compare import Comparison, Role, Status
from ptexplore.checkpoints.inspector import Inspection, Kind, hub_checkpoints_dir, hub_files
from ptexplore.checkpoints.lessons import DEFAULT_MODEL, Made, Origin, SavedAs, Upload, lab_models
from ptexplore.checkpoints.recipes import Lesson, LoadConfig, LoadResult, run_load
from ptexplore.checkpoints.save import (
    STAGES,
    SaveConfig,
    SaveResult,
    SaveWhat,
    run_save,
    save_files,
)
from ptexplore.checkpoints.survey import InspectConfig, InspectResult, run_inspect
from ptexplore.ckpt.layout import LegacyLayout, SafetensorsLayout, ZipLayout
from ptexplore.live import Snippet
from ptexplore.models import catalog, weights
from ptexplore.pages import CHECKPOINTS
from ptexplore.ui.lab import Section, Tab, run_section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import inert, show_error
from ptexplore.ui.state import PageState, link_bool, link_choice, link_int

STATE = PageState(CHECKPOINTS)
SAVE_TAB, INSPECT_TAB, LOAD_TAB = "💾 Save", "🔍 Inspect", "🔌 Load"
#: the kept upload: (name, sha256, bytes) — survives the tab closing and page switches
UPLOAD = "_upload"
UPLOAD_TYPES = ["pt", "pth", "ckpt", "bin", "safetensors"]
UPLOAD_HELP = (
    "Read by its bytes, never its name, with torch.load(weights_only=True) or safetensors, "
    "after every size and count is checked: a file that would run code, or claims more than "
    "it holds, is refused."
)


def _labels() -> dict[str, str]:
    return dict(catalog.choices())


def _mb(n: int) -> str:
    if n < 2**20:
        return f"{n:,} bytes"
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.2f} GB"


def _shape(s: tuple[int, ...] | None) -> str:
    return "" if s is None else str(list(s))


_FRAMES = STATE.key("_frames")


def frame_of(name: str, source: object, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``build()``, kept while ``source`` (a layout, an inspection, a comparison: part of a
    remembered result) is the same object: a rerun with nothing changed builds no table."""
    kept: dict[str, tuple[object, pd.DataFrame]] = st.session_state.setdefault(_FRAMES, {})
    hit = kept.get(name)
    if hit is None or hit[0] is not source:
        hit = kept[name] = (source, build())
    return hit[1]


#: the Save tab opens on a small file whose whole zip listing reads at a glance
SAVE_DEFAULT = "example:SmallVGG"


def _heavy(key: str, what: str) -> str | None:
    """A label (run under the semaphore) for a torchvision model; the example models
    build, train one step and save in a few ms (measured: SmallVGG ≈ 10 ms)."""
    return None if key.startswith(catalog.EXAMPLE_PREFIX) else f"{what} {key}"


# ---------------------------------------------------------------------- shared widgets


def model_picker(name: str, label: str = "Model", default: str = DEFAULT_MODEL) -> str:
    keys = list(lab_models())
    labels = _labels()
    return str(
        st.selectbox(
            label,
            keys,
            format_func=lambda k: labels.get(k, k),
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


def _keep_upload(widget: str) -> None:
    """on_change of an uploader: keep the file's bytes (or forget them when removed)."""
    up = st.session_state.get(STATE.key(widget))
    if up is None:
        STATE.drop(UPLOAD)
        return
    data = up.getvalue()
    STATE.set(UPLOAD, (up.name, hashlib.sha256(data).hexdigest(), data))


def upload_widget(widget: str) -> Upload | None:
    """The uploader (both tabs keep the same file) and the kept upload."""
    st.file_uploader(
        "A checkpoint: .pth, .pt, .bin, Lightning .ckpt or .safetensors",
        type=UPLOAD_TYPES,
        help=UPLOAD_HELP,
        key=STATE.key(widget),
        on_change=_keep_upload,
        args=(widget,),
    )
    kept: tuple[str, str, bytes] | None = STATE.get(UPLOAD, None)
    if kept is None:
        st.caption("No file yet. Nothing you upload leaves this server session.")
        return None
    if st.session_state.get(STATE.key(widget)) is None:
        st.caption(f"Using {inert(kept[0])}, uploaded earlier in this session.")
    return Upload(*kept)


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


def _hub_help(key: str | None = None) -> None:
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


# ----------------------------------------------------------------------- tab 1: save


def save_controls() -> SaveConfig:
    c1, c2 = st.columns([1, 1.8], gap="large")
    with c1:
        key = model_picker("save_model", default=SAVE_DEFAULT)
        classes = classes_input("save_classes", key, 10)
    with c2:
        what = SaveWhat(
            st.radio(
                "What to save",
                [w.value for w in SaveWhat],
                format_func=lambda v: SaveWhat(v).label,
                horizontal=True,
                **STATE.widget("save_what", default=SaveWhat.CHECKPOINT.value, url=SaveWhat),
            )
        )
        epoch, loss, f1, lr, stage, optimizer = 3, 0.25, 0.81, 0.01, "finetune", False
        if what is SaveWhat.CHECKPOINT:
            # two rows: five fields side by side leave "stage" a few characters at 1024 px
            a, b, c = st.columns(3)
            d, e = st.columns([1, 2])
            epoch = int(
                a.number_input(
                    "epoch",
                    min_value=0,
                    max_value=limits.CKPT_LAB_MAX_EPOCH,
                    step=1,
                    **STATE.widget("epoch", default=3),
                )
            )
            loss = float(
                b.number_input("loss", 0.0, 1e6, step=0.01, **STATE.widget("loss", default=0.25))
            )
            f1 = float(
                c.number_input("f1", 0.0, 1.0, step=0.01, **STATE.widget("f1", default=0.81))
            )
            lr = float(
                d.number_input(
                    "lr", 0.0, 10.0, step=0.001, format="%.4g", **STATE.widget("lr", default=0.01)
                )
            )
            stage = str(
                e.selectbox(
                    "stage",
                    STAGES,
                    accept_new_options=True,
                    **STATE.widget("stage", default="finetune"),
                )
            )[: limits.CKPT_LAB_MAX_STAGE_CHARS]
            optimizer = bool(
                st.toggle(
                    "+ optimizer.state_dict() after one SGD step",
                    **STATE.widget("optimizer", default=False, url=link_bool),
                    help="SGD with momentum keeps a momentum buffer per parameter, as big as "
                    "the weights: the .pth file doubles (safetensors cannot hold it).",
                )
            )
    seed = seed_input()
    return SaveConfig(key, classes, what, epoch, loss, f1, lr, stage or "finetune", optimizer, seed)


def _download(config: SaveConfig, which: int) -> Callable[[], bytes]:
    def make() -> bytes:
        with limits.heavy(f"saving {config.key} again for a download"):
            return save_files(config)[which]

    return make


def zip_table(layout: ZipLayout) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entry": [f"{layout.top}/{e.name}" for e in layout.entries],
            "data at byte": [e.offset for e in layout.entries],
            "bytes": [e.length for e in layout.entries],
            "compression": ["stored (none)"] * len(layout.entries),
            "holds": [e.what for e in layout.entries],
        }
    )


def safetensors_table(layout: SafetensorsLayout) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tensor": [t.name for t in layout.tensors],
            "dtype": [t.dtype for t in layout.tensors],
            "shape": [str(list(t.shape)) for t in layout.tensors],
            "data_offsets": [f"[{t.begin}, {t.end}]" for t in layout.tensors],
            "in the file at byte": [t.file_offset for t in layout.tensors],
        }
    )


def render_zip(layout: ZipLayout) -> None:
    st.markdown(
        f"A **zip archive** of {len(layout.entries)} entries, every one **stored** "
        "(uncompressed): `data.pkl` is the object tree, each `data/<key>` the raw bytes of "
        "one storage, aligned so they can be memory-mapped."
    )
    st.dataframe(frame_of("zip", layout, lambda: zip_table(layout)), hide_index=True, height=280)
    st.caption(
        f"Before each entry's data: its local header ({layout.headers:,} bytes in all, "
        f"with alignment padding); at byte {layout.directory.offset:,}: "
        f"{layout.directory.what}."
    )


def render_safetensors(layout: SafetensorsLayout) -> None:
    st.markdown(
        f"**8 bytes** `{layout.length_bytes}` = N = **{layout.header_length:,}** "
        f"(little-endian), then **N bytes of JSON**, then the raw tensor bytes from byte "
        f"{layout.data_start:,}: each tensor's `data_offsets` count from there."
    )
    st.code(layout.header_pretty, language="json", height=240)
    st.caption("The header, indented for reading (the file stores it on one line).")
    st.dataframe(
        frame_of("st", layout, lambda: safetensors_table(layout)), hide_index=True, height=240
    )


def save_render(config: SaveConfig, r: SaveResult) -> None:
    m = st.columns(4)
    m[0].metric("state_dict entries", f"{r.tensors:,}")
    m[1].metric("values", f"{r.numel:,}")
    m[2].metric(r.pth_name, _mb(r.pth.size))
    m[3].metric(r.st_name, _mb(r.safetensors.size))
    st.caption(
        f"A private {inert(catalog.entry(config.key).label)} built with seed {config.seed}"
        + (" after one real SGD step" if config.optimizer else "")
        + ": yours alone. Both files were read back from the bytes the script wrote."
    )
    if r.refusal is not None:
        show_error(r.refusal, call="save(model.state_dict())")
    for line in r.left_out:
        st.caption(f"In the .safetensors file: {line}.")
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"#### `{r.pth_name}` — what `torch.save` wrote")
        render_zip(r.pth)
        st.download_button(
            f"⬇ Download {r.pth_name}",
            _download(config, 0),
            file_name=r.pth_name,
            mime="application/octet-stream",
            key=STATE.key("download_pth"),
            on_click="ignore",
        )
    with right:
        st.markdown(f"#### `{r.st_name}` — what safetensors wrote")
        render_safetensors(r.safetensors)
        st.download_button(
            f"⬇ Download {r.st_name}",
            _download(config, 1),
            file_name=r.st_name,
            mime="application/octet-stream",
            key=STATE.key("download_st"),
            on_click="ignore",
        )
    st.caption(
        "Downloads are made again when you click (the same seed makes the same tensors), so "
        "the server keeps only the layouts above."
    )


SAVE: Section[SaveConfig, SaveResult] = Section(
    "save",
    save_controls,
    run_save,
    save_render,
    lambda _c, r: r.snippet,
    heavy=lambda c: _heavy(c.key, "building and saving"),
)


# -------------------------------------------------------------------- tab 2: inspect


def inspect_controls() -> InspectConfig:
    c1, c2 = st.columns([1, 1.4], gap="large")
    with c1:
        origin = origin_radio("source")
    made = Made(saved_as=SavedAs.CHECKPOINT)
    upload = None
    hub = None
    with c2:
        if origin is Origin.MADE:
            a, b = st.columns(2)
            with a:
                key = model_picker("inspect_model")
                classes = classes_input("inspect_classes", key, 1000)
            with b:
                saved_as = saved_as_picker("saved_as", SavedAs.CHECKPOINT)
            made = Made(key, classes, saved_as, 0)
        elif origin is Origin.UPLOAD:
            upload = upload_widget("file")
        else:
            names = hub_files()
            if not names:
                _hub_help()
            else:
                hub = str(st.selectbox("file in the torch hub cache", names, **STATE.widget("hub")))
    if origin is Origin.MADE:
        made = Made(made.key, made.num_classes, made.saved_as, seed_input())
    return InspectConfig(origin, made, upload, hub)


def _inspect_job(config: InspectConfig) -> str | None:
    if config.origin is Origin.MADE:  # a file is read by its index: cheap
        return _heavy(config.made.key, "building and saving")
    return None


def verdict(r: InspectResult) -> None:
    if r.refused is not None:
        f = r.refused
        if f.unsafe:
            st.error(f"🚫 {f.message}\n\n**Fix:** {f.fix}", icon="🛡️")
            st.markdown("**The globals its pickle wants to import** (none was imported):")
            st.code("\n".join(f.wanted) or "(not named)", language="text")
            if f.reason:
                st.caption("torch's weights-only unpickler said:")
                st.code(f.reason, language="text", wrap_lines=True)
        else:
            st.error(f"{f.message}\n\n**Fix:** {f.fix}", icon="🚫")
        return
    i = r.inspection
    assert i is not None
    where = (
        "no state_dict inside"
        if i.state_dict_at is None
        else "the state_dict is the file's top level"
        if i.state_dict_at == ""
        else f"the state_dict is under {inert(i.state_dict_at)}"
    )
    st.success(
        f"✅ **{i.format.value}** (told by its bytes) · {_mb(i.size)} · "
        f"{len(i.tensors):,} tensors · {where}.",
        icon="🔍",
    )


def _structure(i: Inspection) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [("  " * e.depth) + (e.path.rsplit(".", 1)[-1] or "(file)") for e in i.entries],
            "full path": [e.path or "(file)" for e in i.entries],
            "type": [e.type_name for e in i.entries],
            "holds": [e.summary if e.kind is not Kind.VALUE else "" for e in i.entries],
            "value": [e.summary if e.kind is Kind.VALUE else "" for e in i.entries],
        }
    )


def _tensors(i: Inspection) -> pd.DataFrame:
    rows = i.tensors
    return pd.DataFrame(
        {
            "in": [t.where or "(top level)" for t in rows],
            "name": [t.name for t in rows],
            "shape": [str(list(t.shape)) for t in rows],
            "dtype": [t.dtype for t in rows],
            "numel": [t.numel for t in rows],
            "bytes": [t.nbytes for t in rows],
            "at byte": [None if t.offset is None else t.offset for t in rows],
            "same tensor as": [t.same_as or "" for t in rows],
        }
    )


def inspect_render(_config: InspectConfig, r: InspectResult) -> None:
    verdict(r)
    i = r.inspection
    if i is None:
        return
    m = st.columns(5)
    m[0].metric("state_dict tensors", f"{len(i.weights):,}")
    m[1].metric("values", f"{i.numel:,}")
    m[2].metric("weights' bytes", _mb(i.nbytes))
    m[3].metric("all tensors in the file", f"{len(i.tensors):,}", delta=_mb(i.all_bytes),
                delta_color="off", delta_arrow="off")  # fmt: skip
    m[4].metric("read in", f"{r.seconds * 1000:.0f} ms")
    st.caption(
        f"{inert(r.origin, limit=120)}: "
        + (
            "only the 8-byte length and the JSON header were read, never the tensor data."
            if isinstance(i.layout, SafetensorsLayout)
            else 'loaded with torch.load(weights_only=True, map_location="meta") inside '
            "torch.serialization.skip_data(): shapes and dtypes, no tensor bytes read."
        )
    )
    notes: list[str] = []
    if i.prefix:
        notes.append(
            f"every state_dict key starts with {inert(i.prefix)}: a wrapper's prefix "
            "(strip it before loading: the Load tab shows how)"
        )
    if i.lightning:
        notes.append("a PyTorch Lightning checkpoint (its weights under `state_dict`)")
    if any(t.same_as for t in i.tensors):
        tied = [t for t in i.tensors if t.same_as]
        notes.append(
            f"{len(tied)} tensors are saved once under two names (tied weights), e.g. "
            f"{inert(tied[0].path)} = {inert(tied[0].same_as)}"
        )
    notes.extend(i.notes)
    if notes:
        st.caption("\n".join(f"- {n}" for n in notes))
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        st.markdown("**Per dtype** (the state_dict)")
        st.dataframe(
            {
                "dtype": [c.dtype for c in i.by_dtype],
                "tensors": [c.tensors for c in i.by_dtype],
                "values": [c.numel for c in i.by_dtype],
                "bytes": [c.nbytes for c in i.by_dtype],
            },
            hide_index=True,
        )
        st.markdown("**Top-level structure**")
        st.dataframe(
            frame_of("structure", i, lambda: _structure(i)),
            hide_index=True,
            height=280,
            column_order=["path", "type", "holds", "value"],
        )
        if i.rows_cut:
            st.caption(f"The first {limits.CKPT_LAB_MAX_ROWS} rows.")
        if i.metadata:
            st.markdown("**safetensors `__metadata__`** (strings only)")
            st.dataframe(
                {"key": [k for k, _ in i.metadata], "value": [v for _, v in i.metadata]},
                hide_index=True,
            )
    with right:
        st.markdown("**Every tensor**: name, shape, dtype, bytes, where its bytes are")
        st.dataframe(frame_of("tensors", i, lambda: _tensors(i)), hide_index=True, height=420)
    with st.expander("The file's layout, byte by byte"):
        layout = i.layout
        if isinstance(layout, ZipLayout):
            render_zip(layout)
        elif isinstance(layout, SafetensorsLayout):
            render_safetensors(layout)
        elif isinstance(layout, LegacyLayout):
            st.markdown("A **legacy stream**: five pickles one after another, then the bytes.")
            st.dataframe(
                {
                    "part": [p.what for p in layout.parts],
                    "at byte": [p.offset for p in layout.parts],
                    "bytes": [p.length for p in layout.parts],
                },
                hide_index=True,
            )


def _no_file(origin: Origin, upload: Upload | None, hub: str | None) -> bool:
    """The learner picked a file source but there is no file yet (nothing to compute)."""
    return (origin is Origin.UPLOAD and upload is None) or (origin is Origin.HUB and hub is None)


def inspect_compute(config: InspectConfig) -> InspectResult | None:
    if _no_file(config.origin, config.upload, config.hub):
        return None
    return run_inspect(config)


def inspect_show(config: InspectConfig, r: InspectResult | None) -> None:
    if r is not None:
        inspect_render(config, r)


def _inspect_code(_config: InspectConfig, r: InspectResult | None) -> Snippet | None:
    return None if r is None else r.snippet


INSPECT: Section[InspectConfig, InspectResult | None] = Section(
    "inspect", inspect_controls, inspect_compute, inspect_show, _inspect_code, heavy=_inspect_job
)


# ----------------------------------------------------------------------- tab 3: load


def _layers(key: str, num_classes: int | None) -> list[str]:
    model = catalog.build_meta(key, num_classes).model
    return [n for n, _ in model.named_parameters(remove_duplicate=False)]


def load_controls() -> LoadConfig:
    c1, c2, c3 = st.columns([1, 1.3, 1.3], gap="large")
    with c1:
        st.markdown("**1 · Your model** (a private copy)")
        target = model_picker("model", "Target model")
        classes = classes_input("num_classes", target, 10, "num_classes (its head)")
    with c2:
        st.markdown("**2 · The checkpoint**")
        origin = origin_radio("from")
        source_classes: int | None = 1000
        saved_as = SavedAs.STATE_DICT
        upload = None
        hub = None
        if origin is Origin.MADE:
            source_classes = classes_input("from_classes", target, 1000, "its num_classes")
            saved_as = saved_as_picker("from_saved_as", SavedAs.STATE_DICT)
            st.caption(
                f"{inert(catalog.entry(target).label)} after one real SGD step, saved that way."
            )
        elif origin is Origin.UPLOAD:
            upload = upload_widget("load_file")
        else:
            path = None if target.startswith("example:") else weights.hub_checkpoint_path(target)
            if path is None:
                _hub_help(target)
            else:
                hub = path.name
                st.caption(f"{inert(path.name)} from the torch hub cache (memory-mapped).")
    with c3:
        st.markdown("**3 · The call**")
        lesson = Lesson(
            st.radio(
                "Recipe",
                [x.value for x in Lesson],
                format_func=lambda v: Lesson(v).label,
                **STATE.widget("lesson", default=Lesson.PARTIAL.value, url=Lesson),
            )
        )
        layer = ""
        if lesson is Lesson.LAYER:
            names = _layers(target, classes)
            layer = str(
                st.selectbox(
                    "the layer (a parameter)",
                    names,
                    **STATE.widget("layer", reset_on=(target, classes), default=names[0]),
                )
            )
        strip = bool(
            st.toggle(
                "strip a wrapper prefix",
                **STATE.widget("strip", default=False, url=link_bool),
                help="module. (DataParallel/DDP), model. (Lightning), _orig_mod. "
                "(torch.compile): removed from every key when every key has it.",
            )
        )
    seed = seed_input()
    return LoadConfig(
        target, classes, origin, source_classes, saved_as, upload, hub, strip, lesson, layer, seed
    )


def _status_icon(s: Status) -> str:
    return {
        Status.MATCHED: "✅ matched",
        Status.SHAPE: "❌ shape mismatch",
        Status.MISSING: "➖ missing",
        Status.UNEXPECTED: "➕ unexpected",
    }[s]


#: the comparison table lists problems first
_ORDER = {Status.SHAPE: 0, Status.MISSING: 1, Status.UNEXPECTED: 2, Status.MATCHED: 3}


def comparison_frame(c: Comparison) -> pd.DataFrame:
    rows = sorted(c.rows, key=lambda r: _ORDER[r.status])
    return pd.DataFrame(
        {
            "key": [r.key for r in rows],
            "status": [_status_icon(r.status) for r in rows],
            "kind": [r.role.value for r in rows],
            "model shape": [_shape(r.model_shape) for r in rows],
            "checkpoint shape": [_shape(r.ckpt_shape) for r in rows],
            "model dtype": [r.model_dtype or "" for r in rows],
            "checkpoint dtype": [r.ckpt_dtype or "" for r in rows],
            "tied to (model)": [r.model_tied or "" for r in rows],
            "tied to (checkpoint)": [r.ckpt_tied or "" for r in rows],
        }
    )


def _comparison(r: LoadResult) -> None:
    c = r.comparison
    label = catalog.entry(r.config.target).label
    st.markdown(f"#### Key by key: the checkpoint against {inert(label)}'s state_dict")
    m = st.columns(5)
    m[0].metric("matched parameters", c.count(Status.MATCHED, Role.PARAMETER))
    m[1].metric("matched buffers", c.count(Status.MATCHED, Role.BUFFER))
    m[2].metric("shape mismatches", c.count(Status.SHAPE))
    m[3].metric("missing (model only)", c.count(Status.MISSING))
    m[4].metric("unexpected (file only)", c.count(Status.UNEXPECTED))
    st.dataframe(frame_of("keys", c, lambda: comparison_frame(c)), hide_index=True, height=320)
    st.caption(
        "Buffers are state too (BatchNorm's running_mean, running_var, num_batches_tracked): "
        "load_state_dict loads them like parameters, and the optimizer never sees them."
    )
    if c.casts:
        k, src, dst = c.casts[0]
        st.info(
            f"**dtype:** {len(c.casts)} matched tensors are {inert(src)} in the checkpoint and "
            f"{inert(dst)} in the model (e.g. {inert(k)}). load_state_dict copies them with "
            "`param.copy_(value)`, which casts **silently**: no warning, no error.",
            icon="🔁",
        )
    if c.model_tied:
        g = c.model_tied[0]
        st.info(
            f"**Tied weights:** {', '.join(inert(n) for n in g)} are one tensor under "
            f"{len(g)} names in the model: loading writes it once per name (the last wins).",
            icon="🔗",
        )


def _prefix(r: LoadResult) -> None:
    p = r.prefix
    if p is None:
        return
    if r.stripped:
        st.success(
            f"Stripped {inert(p.prefix)} (added by {p.who}) from every key: "
            f"{p.matches_stripped} keys now name the model's tensors ({p.matches_as_is} did "
            "as saved).",
            icon="✂️",
        )
    elif p.matches_as_is == 0:  # the "0 keys match" note above already names it
        st.info("Turn on **strip a wrapper prefix** (column 3) to load it.", icon="✂️")
    else:
        st.warning(
            f"Every checkpoint key starts with {inert(p.prefix)} (added by {p.who}): "
            f"{p.matches_as_is} keys name the model's tensors as saved, "
            f"**{p.matches_stripped}** would after stripping it. Turn on **strip a wrapper "
            "prefix** (column 3).",
            icon="⚠️",
        )
    with st.expander("The key mapping"):
        st.dataframe(
            {
                "key in the checkpoint": [a for a, _, _ in p.mapping],
                "after stripping": [b for _, b, _ in p.mapping],
                "in the model": [c for _, _, c in p.mapping],
            },
            hide_index=True,
        )


def _call(r: LoadResult) -> str:
    lesson = r.config.lesson
    if lesson is Lesson.STRICT:
        return "model.load_state_dict(ckpt)"
    if lesson is Lesson.NOT_STRICT:
        return "model.load_state_dict(ckpt, strict=False)"
    if lesson is Lesson.LAYER:
        return f"param.copy_(ckpt[{r.layer!r}])"
    return "model.load_state_dict(model_dict)"


def _outcome(r: LoadResult) -> None:
    st.markdown(f"#### What `{_call(r)}` did")
    if r.refusal is not None:
        show_error(r.refusal, call=_call(r))
        if r.error_rows:
            st.markdown("torch's error, one row per problem:")
            st.dataframe(
                {
                    "problem": [e.problem for e in r.error_rows],
                    "key": [e.key for e in r.error_rows],
                    "detail": [e.detail for e in r.error_rows],
                },
                hide_index=True,
                height=200,
            )
    if r.incompatible is not None and r.config.lesson is Lesson.NOT_STRICT:
        missing, unexpected = r.incompatible
        st.markdown(
            f"`strict=False` returned `IncompatibleKeys`: **{len(missing)} missing_keys**, "
            f"**{len(unexpected)} unexpected_keys** — it reports them and loads the rest. "
            "Nothing else is skipped: shape mismatches raise."
        )
        a, b = st.columns(2)
        a.dataframe({"missing_keys": list(missing)}, hide_index=True, height=160)
        b.dataframe({"unexpected_keys": list(unexpected)}, hide_index=True, height=160)
    p = r.proof
    changed = len(p.changed)
    m = st.columns(3)
    m[0].metric("tensors changed", f"{changed} of {p.total}")
    m[1].metric("expected to change", len(p.expected) - len(p.already))
    m[2].metric("exactly those", "yes" if p.exact else "no")
    lesson = r.config.lesson
    if lesson is Lesson.BROKEN:
        st.warning(
            f"**{changed} tensors changed**: `net1_dict.update(net1_dict)` updates the model's "
            "dict with itself, so `load_state_dict` copies every tensor onto itself and "
            "reports `<All keys matched successfully>`. The filtered checkpoint "
            "(`pretrained_dict`) is never used. The fix: `net1_dict.update(pretrained_dict)`.",
            icon="🪤",
        )
    elif p.exact and not p.expected:
        raised = ": torch raised before a single entry fitted" if r.refusal is not None else ""
        st.success(
            f"**Proven by comparing tensors:** no tensor changed{raised}; all {p.total} are "
            "as they were.",
            icon="🧪",
        )
    elif p.exact and p.equal_to_checkpoint and p.rest_untouched:
        what = {
            Lesson.PARTIAL: "the filtered keys",
            Lesson.LAYER: "that tensor" + (" (under each of its names)" if changed > 1 else ""),
        }.get(lesson, "the matched keys")
        raised = " — even though torch raised" if r.refusal is not None else ""
        same = (
            f" ({len(p.already)} more already held the checkpoint's values, so loading could "
            "not change them: e.g. a fresh BatchNorm's weight 1 and bias 0)"
            if p.already
            else ""
        )
        st.success(
            f"**Proven by comparing tensors:** exactly {what} changed ({changed}){raised}"
            f"{same}; each now equals the checkpoint's tensor, and the other "
            f"{p.total - len(p.expected)} are untouched.",
            icon="🧪",
        )
    else:
        st.info(
            f"{changed} tensors changed; {len(p.expected)} were expected to. "
            + ("" if p.equal_to_checkpoint else "Not every loaded key equals the checkpoint. ")
            + ("" if p.rest_untouched else "Some others changed too. ")
            + "Values that were already equal do not count as changed.",
            icon="🧪",
        )
    if r.refusal is not None and lesson in (Lesson.STRICT, Lesson.NOT_STRICT) and changed:
        st.caption(
            "load_state_dict copies module by module and raises at the end: a failed call "
            "can leave a model half-loaded. Load into a fresh model, or filter first."
        )


def load_render(_config: LoadConfig, r: LoadResult) -> None:
    where = f" (its weights under {inert(r.wrapper)})" if r.wrapper else ""
    st.caption(f"Checkpoint: {inert(r.origin, limit=120)}{where}.")
    for note in r.notes:
        st.warning(note, icon="⚠️")
    _prefix(r)
    _comparison(r)
    _outcome(r)


def _load_job(config: LoadConfig) -> str | None:
    if config.origin is not Origin.MADE:  # a file (≤ 50 MB, or memory-mapped) into a model
        return f"loading a checkpoint into {config.target}"
    return _heavy(config.target, "building and loading")


def load_compute(config: LoadConfig) -> LoadResult | None:
    if _no_file(config.origin, config.upload, config.hub):
        return None
    return run_load(config)


def load_show(config: LoadConfig, r: LoadResult | None) -> None:
    if r is None:
        st.info("Pick a checkpoint in column 2 to compare and load it.", icon="🔌")
        return
    load_render(config, r)


LOAD: Section[LoadConfig, LoadResult | None] = Section(
    "load",
    load_controls,
    load_compute,
    load_show,
    lambda _c, r: None if r is None else r.snippet,
    heavy=lambda c: None if _no_file(c.origin, c.upload, c.hub) else _load_job(c),
)


TABS = (
    Tab(SAVE_TAB, lambda: run_section(CHECKPOINTS, SAVE)),
    Tab(INSPECT_TAB, lambda: run_section(CHECKPOINTS, INSPECT)),
    Tab(LOAD_TAB, lambda: run_section(CHECKPOINTS, LOAD)),
)

INTRO = (
    "What a `.pth` file really holds, and what each way of loading it really does. Every "
    "table is read from real files and every claim is **proven live**: the load lessons "
    "compare each tensor before and after. Files are always read with "
    "`torch.load(weights_only=True)` (or safetensors), after every size and count is "
    "checked; models are private copies, yours alone."
)

__all__ = ["INSPECT", "INTRO", "LOAD", "SAVE", "TABS"]
