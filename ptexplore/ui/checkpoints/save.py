"""💾 Save — ``torch.save`` a private catalog model (its state_dict, or a checkpoint dict
with the fields the learner fills and optionally the optimizer's state after one step) and
the same weights as safetensors; both files' real layout; both downloadable."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from ptexplore import limits
from ptexplore.checkpoints import tables
from ptexplore.checkpoints.save import (
    STAGES,
    SaveConfig,
    SaveResult,
    SaveWhat,
    run_save,
    save_files,
)
from ptexplore.i18n import N_, _
from ptexplore.models import catalog
from ptexplore.ui.checkpoints.common import (
    SAVE_TAB,
    STATE,
    classes_input,
    heavy_label,
    mb,
    model_picker,
    render_safetensors,
    render_zip,
)
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import inert, show_error
from ptexplore.ui.state import link_bool

#: the Save tab opens on a small file whose whole zip listing reads at a glance
SAVE_DEFAULT = "example:SmallVGG"


def save_controls(_shared: object) -> SaveConfig:
    c1, c2 = st.columns([1, 1.8], gap="large")
    with c1:
        key = model_picker("save_model", default=SAVE_DEFAULT)
        classes = classes_input("save_classes", key, 10)
    with c2:
        what = SaveWhat(
            st.radio(
                _("What to save"),
                [w.value for w in SaveWhat],
                format_func=shown(choices(SaveWhat), lambda w: w.label),
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
                    _("epoch"),
                    min_value=0,
                    max_value=limits.CKPT_LAB_MAX_EPOCH,
                    step=1,
                    **STATE.widget("epoch", default=3),
                )
            )
            loss = float(
                b.number_input(_("loss"), 0.0, 1e6, step=0.01, **STATE.widget("loss", default=0.25))
            )
            f1 = float(
                c.number_input("f1", 0.0, 1.0, step=0.01, **STATE.widget("f1", default=0.81))
            )
            lr = float(
                d.number_input(
                    _("lr"),
                    0.0,
                    10.0,
                    step=0.001,
                    format="%.4g",
                    **STATE.widget("lr", default=0.01),
                )
            )
            stage = str(
                e.selectbox(
                    _("stage"),
                    STAGES,
                    accept_new_options=True,
                    **STATE.widget("stage", default="finetune"),
                )
            )[: limits.CKPT_LAB_MAX_STAGE_CHARS]
            optimizer = bool(
                st.toggle(
                    _("+ optimizer.state_dict() after one SGD step"),
                    **STATE.widget("optimizer", default=False, url=link_bool),
                    help=_(
                        "SGD with momentum keeps a momentum buffer per parameter, as big as "
                        "the weights: the .pth file doubles (safetensors cannot hold it)."
                    ),
                )
            )
    seed = seed_input()
    return SaveConfig(key, classes, what, epoch, loss, f1, lr, stage or "finetune", optimizer, seed)


def _download(config: SaveConfig, which: int) -> Callable[[], bytes]:
    # named in this rerun: the download button may call make() after it
    job = _("saving {model} again for a download").format(model=config.key)

    def make() -> bytes:
        with limits.heavy(job):
            return save_files(config)[which]

    return make


def save_views(_config: SaveConfig, r: SaveResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    return tables.zip_entries(r.pth), tables.safetensors_header(r.safetensors)


def save_render(
    config: SaveConfig, r: SaveResult, views: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    m = st.columns(4)
    m[0].metric(_("state_dict entries"), f"{r.tensors:,}")
    m[1].metric(_("values"), f"{r.numel:,}")
    m[2].metric(r.pth_name, mb(r.pth.size))
    m[3].metric(r.st_name, mb(r.safetensors.size))
    model = inert(catalog.shown_name(config.key))
    st.caption(
        (
            _(
                "A private {model} built with seed {seed} after one real SGD step: yours "
                "alone. Both files were read back from the bytes the script wrote."
            )
            if config.optimizer
            else _(
                "A private {model} built with seed {seed}: yours alone. Both files were read "
                "back from the bytes the script wrote."
            )
        ).format(model=model, seed=config.seed)
    )
    if r.refusal is not None:
        show_error(r.refusal, call="save(model.state_dict())")
    for line in r.left_out:
        st.caption(_("In the .safetensors file: {line}.").format(line=line))
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(_("#### {name} — what `torch.save` wrote").format(name=f"`{r.pth_name}`"))
        render_zip(r.pth, views[0])
        st.download_button(
            _("⬇ Download {name}").format(name=r.pth_name),
            _download(config, 0),
            file_name=r.pth_name,
            mime="application/octet-stream",
            key=STATE.key("download_pth"),
            on_click="ignore",
        )
    with right:
        st.markdown(_("#### {name} — what safetensors wrote").format(name=f"`{r.st_name}`"))
        render_safetensors(r.safetensors, views[1])
        st.download_button(
            _("⬇ Download {name}").format(name=r.st_name),
            _download(config, 1),
            file_name=r.st_name,
            mime="application/octet-stream",
            key=STATE.key("download_st"),
            on_click="ignore",
        )
    st.caption(
        _(
            "Downloads are made again when you click (the same seed makes the same tensors), "
            "so the server keeps only the layouts above."
        )
    )


SAVE: Section[SaveConfig, SaveResult] = Section(
    "save",
    save_controls,
    run_save,
    save_render,
    lambda _c, r: r.snippet,
    label=SAVE_TAB,
    heavy=lambda c: heavy_label(c.key, N_("building and saving {model}")),
    views=save_views,
)
