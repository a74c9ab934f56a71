"""🔌 Load — a checkpoint against a private target model, key by key, then one recipe run
live (strict=True, strict=False, the partial load, the broken recipe, one layer) and proven
by comparing every tensor with its value before."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore.checkpoints import tables
from ptexplore.checkpoints.compare import Role, Status
from ptexplore.checkpoints.lessons import Origin, SavedAs
from ptexplore.checkpoints.recipes import Lesson, LoadConfig, LoadResult, run_load
from ptexplore.ckpt.read import who_added
from ptexplore.i18n import N_, _
from ptexplore.models import catalog, weights
from ptexplore.ui.checkpoints.common import (
    LOAD_TAB,
    STATE,
    classes_input,
    heavy_label,
    hub_help,
    model_picker,
    no_file,
    origin_radio,
    saved_as_picker,
    upload_widget,
)
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import inert, show_error
from ptexplore.ui.state import link_bool

NO_FILE = N_("Pick a checkpoint in column 2 to compare and load it.")


def _layers(key: str, num_classes: int | None) -> list[str]:
    model = catalog.build_meta(key, num_classes).model
    return [n for n, _x in model.named_parameters(remove_duplicate=False)]


def load_controls(_shared: object) -> LoadConfig:
    c1, c2, c3 = st.columns([1, 1.3, 1.3], gap="large")
    with c1:
        st.markdown(_("**1 · Your model** (a private copy)"))
        target = model_picker("model", N_("Target model"))
        classes = classes_input("num_classes", target, 10, N_("num_classes (its head)"))
    with c2:
        st.markdown(_("**2 · The checkpoint**"))
        origin = origin_radio("from")
        source_classes: int | None = 1000
        saved_as = SavedAs.STATE_DICT
        upload = None
        hub = None
        if origin is Origin.MADE:
            source_classes = classes_input("from_classes", target, 1000, N_("its num_classes"))
            saved_as = saved_as_picker("from_saved_as", SavedAs.STATE_DICT)
            st.caption(
                _("{model} after one real SGD step, saved that way.").format(
                    model=inert(catalog.shown_name(target))
                )
            )
        elif origin is Origin.UPLOAD:
            upload = upload_widget("load_file")
        else:
            path = None if target.startswith("example:") else weights.hub_checkpoint_path(target)
            if path is None:
                hub_help(target)
            else:
                hub = path.name
                st.caption(
                    _("{name} from the torch hub cache (memory-mapped).").format(
                        name=inert(path.name)
                    )
                )
    with c3:
        st.markdown(_("**3 · The call**"))
        lesson = Lesson(
            st.radio(
                _("Recipe"),
                [x.value for x in Lesson],
                format_func=shown(choices(Lesson), lambda x: x.label),
                **STATE.widget("lesson", default=Lesson.PARTIAL.value, url=Lesson),
            )
        )
        layer = ""
        if lesson is Lesson.LAYER:
            names = _layers(target, classes)
            layer = str(
                st.selectbox(
                    _("the layer (a parameter)"),
                    names,
                    **STATE.widget("layer", reset_on=(target, classes), default=names[0]),
                )
            )
        strip = bool(
            st.toggle(
                _("strip a wrapper prefix"),
                **STATE.widget("strip", default=False, url=link_bool),
                help=_(
                    "module. (DataParallel/DDP), model. (Lightning), _orig_mod. "
                    "(torch.compile): removed from every key when every key has it."
                ),
            )
        )
    seed = seed_input()
    return LoadConfig(
        target, classes, origin, source_classes, saved_as, upload, hub, strip, lesson, layer, seed
    )


def _comparison(r: LoadResult, views: LoadViews) -> None:
    c = r.comparison
    label = catalog.shown_name(r.config.target)
    st.markdown(
        _("#### Key by key: the checkpoint against {model}'s state_dict").format(model=inert(label))
    )
    m = st.columns(5)
    m[0].metric(_("matched parameters"), c.count(Status.MATCHED, Role.PARAMETER))
    m[1].metric(_("matched buffers"), c.count(Status.MATCHED, Role.BUFFER))
    m[2].metric(_("shape mismatches"), c.count(Status.SHAPE))
    m[3].metric(_("missing (model only)"), c.count(Status.MISSING))
    m[4].metric(_("unexpected (file only)"), c.count(Status.UNEXPECTED))
    st.dataframe(views.comparison, hide_index=True, height=320)
    st.caption(
        _(
            "Buffers are state too (BatchNorm's running_mean, running_var, "
            "num_batches_tracked): load_state_dict loads them like parameters, and the "
            "optimizer never sees them."
        )
    )
    if c.casts:
        k, src, dst = c.casts[0]
        st.info(
            _(
                "**dtype:** {n} matched tensors are {src} in the checkpoint and "
                "{dst} in the model (e.g. {key}). load_state_dict copies them with "
                "`param.copy_(value)`, which casts **silently**: no warning, no error."
            ).format(n=len(c.casts), src=inert(src), dst=inert(dst), key=inert(k)),
            icon="🔁",
        )
    if c.model_tied:
        g = c.model_tied[0]
        st.info(
            _(
                "**Tied weights:** {names} are one tensor under "
                "{n} names in the model: loading writes it once per name (the last wins)."
            ).format(names=", ".join(inert(n) for n in g), n=len(g)),
            icon="🔗",
        )


def _prefix(r: LoadResult, views: LoadViews) -> None:
    p = r.prefix
    if p is None:
        return
    who = who_added(p.prefix)
    if r.stripped:
        st.success(
            _(
                "Stripped {prefix} (added by {who}) from every key: "
                "{stripped} keys now name the model's tensors ({as_is} did as saved)."
            ).format(
                prefix=inert(p.prefix), who=who, stripped=p.matches_stripped, as_is=p.matches_as_is
            ),
            icon="✂️",
        )
    elif p.matches_as_is == 0:  # the "0 keys match" note above already names it
        st.info(_("Turn on **strip a wrapper prefix** (column 3) to load it."), icon="✂️")
    else:
        st.warning(
            _(
                "Every checkpoint key starts with {prefix} (added by {who}): "
                "{as_is} keys name the model's tensors as saved, "
                "**{stripped}** would after stripping it. Turn on **strip a wrapper "
                "prefix** (column 3)."
            ).format(
                prefix=inert(p.prefix), who=who, stripped=p.matches_stripped, as_is=p.matches_as_is
            ),
            icon="⚠️",
        )
    with st.expander(_("The key mapping")):
        st.dataframe(views.mapping, hide_index=True)


def _call(r: LoadResult) -> str:
    lesson = r.config.lesson
    if lesson is Lesson.STRICT:
        return "model.load_state_dict(ckpt)"
    if lesson is Lesson.NOT_STRICT:
        return "model.load_state_dict(ckpt, strict=False)"
    if lesson is Lesson.LAYER:
        return f"param.copy_(ckpt[{r.layer!r}])"
    return "model.load_state_dict(model_dict)"


def _outcome(r: LoadResult, views: LoadViews) -> None:
    st.markdown(_("#### What {call} did").format(call=f"`{_call(r)}`"))
    if r.refusal is not None:
        show_error(r.refusal, call=_call(r))
        if r.error_rows:
            st.markdown(_("torch's error, one row per problem:"))
            st.dataframe(views.errors, hide_index=True, height=200)
    if r.incompatible is not None and r.config.lesson is Lesson.NOT_STRICT:
        missing, unexpected = r.incompatible
        st.markdown(
            _(
                "`strict=False` returned `IncompatibleKeys`: **{missing} missing_keys**, "
                "**{unexpected} unexpected_keys** — it reports them and loads the rest. "
                "Nothing else is skipped: shape mismatches raise."
            ).format(missing=len(missing), unexpected=len(unexpected))
        )
        a, b = st.columns(2)
        a.dataframe({"missing_keys": list(missing)}, hide_index=True, height=160)
        b.dataframe({"unexpected_keys": list(unexpected)}, hide_index=True, height=160)
    p = r.proof
    changed = len(p.changed)
    m = st.columns(3)
    m[0].metric(_("tensors changed"), _("{n} of {total}").format(n=changed, total=p.total))
    m[1].metric(_("expected to change"), len(p.expected) - len(p.already))
    m[2].metric(_("exactly those"), _("yes") if p.exact else _("no"))
    lesson = r.config.lesson
    if lesson is Lesson.BROKEN:
        st.warning(
            _(
                "**{n} tensors changed**: `net1_dict.update(net1_dict)` updates the model's "
                "dict with itself, so `load_state_dict` copies every tensor onto itself and "
                "reports `<All keys matched successfully>`. The filtered checkpoint "
                "(`pretrained_dict`) is never used. The fix: "
                "`net1_dict.update(pretrained_dict)`."
            ).format(n=changed),
            icon="🪤",
        )
    elif p.exact and not p.expected:
        text = (
            _(
                "**Proven by comparing tensors:** no tensor changed: torch raised before a "
                "single entry fitted; all {total} are as they were."
            )
            if r.refusal is not None
            else _(
                "**Proven by comparing tensors:** no tensor changed; all {total} are as they were."
            )
        )
        st.success(text.format(total=p.total), icon="🧪")
    elif p.exact and p.equal_to_checkpoint and p.rest_untouched:
        what = {
            Lesson.PARTIAL: _("the filtered keys"),
            Lesson.LAYER: _("that tensor (under each of its names)")
            if changed > 1
            else _("that tensor"),
        }.get(lesson, _("the matched keys"))
        raised = _(" — even though torch raised") if r.refusal is not None else ""
        same = (
            _(
                " ({n} more already held the checkpoint's values, so loading could "
                "not change them: e.g. a fresh BatchNorm's weight 1 and bias 0)"
            ).format(n=len(p.already))
            if p.already
            else ""
        )
        st.success(
            _(
                "**Proven by comparing tensors:** exactly {what} changed ({n}){raised}"
                "{same}; each now equals the checkpoint's tensor, and the other "
                "{rest} are untouched."
            ).format(
                what=what, n=changed, raised=raised, same=same, rest=p.total - len(p.expected)
            ),
            icon="🧪",
        )
    else:
        st.info(
            _("{n} tensors changed; {expected} were expected to. ").format(
                n=changed, expected=len(p.expected)
            )
            + ("" if p.equal_to_checkpoint else _("Not every loaded key equals the checkpoint. "))
            + ("" if p.rest_untouched else _("Some others changed too. "))
            + _("Values that were already equal do not count as changed."),
            icon="🧪",
        )
    if r.refusal is not None and lesson in (Lesson.STRICT, Lesson.NOT_STRICT) and changed:
        st.caption(
            _(
                "load_state_dict copies module by module and raises at the end: a failed call "
                "can leave a model half-loaded. Load into a fresh model, or filter first."
            )
        )


@dataclass(frozen=True, slots=True)
class LoadViews:
    """The load lesson's tables, built once per result."""

    comparison: pd.DataFrame
    mapping: pd.DataFrame
    errors: pd.DataFrame


def load_views(_config: LoadConfig, r: LoadResult) -> LoadViews:
    return LoadViews(
        tables.comparison(r.comparison), tables.prefix_mapping(r), tables.load_errors(r)
    )


def load_render(_config: LoadConfig, r: LoadResult, views: LoadViews) -> None:
    origin = inert(r.origin, limit=120)
    st.caption(
        _("Checkpoint: {origin} (its weights under {key}).").format(
            origin=origin, key=inert(r.wrapper)
        )
        if r.wrapper
        else _("Checkpoint: {origin}.").format(origin=origin)
    )
    for note in r.notes:
        st.warning(note, icon="⚠️")
    _prefix(r, views)
    _comparison(r, views)
    _outcome(r, views)


def _load_job(config: LoadConfig) -> str | None:
    if config.origin is not Origin.MADE:  # a file (≤ 50 MB, or memory-mapped) into a model
        return _("loading a checkpoint into {model}").format(model=config.target)
    return heavy_label(config.target, N_("building and loading {model}"))


LOAD: Section[LoadConfig, LoadResult] = Section(
    "load",
    load_controls,
    run_load,
    load_render,
    lambda _c, r: r.snippet,
    label=LOAD_TAB,
    ready=lambda c: _(NO_FILE) if no_file(c.origin, c.upload, c.hub) else None,
    heavy=_load_job,
    views=load_views,
)
