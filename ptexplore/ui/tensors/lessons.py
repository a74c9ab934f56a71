"""🚫 Errors as lessons and 🔢 ``.item()``: the real calls, torch's own words, the fix run."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.errors import Refusal
from ptexplore.i18n import N_, _
from ptexplore.pages import TENSORS
from ptexplore.tensors import (
    ErrorCase,
    ErrorLesson,
    ItemDtype,
    ItemResult,
    ItemShape,
    Outcome,
    item_lesson,
    run_error_lesson,
)
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.render import show_error
from ptexplore.ui.state import PageState

STATE = PageState(TENSORS)
#: the tabs' labels: English (the tab's id in links and state), shown translated
ERRORS_TAB, ITEM_TAB = N_("🚫 Errors as lessons"), N_("🔢 .item()")


def error_lesson(lesson: ErrorLesson) -> None:
    st.code(lesson.code, language="python")
    if lesson.outcome is Outcome.NOT_RUN:
        st.info(_("**Not run here.** {message}").format(message=lesson.message), icon="🖥️")
    elif lesson.outcome is Outcome.WARNING:
        st.warning(
            _("**{kind}** (live): {message}").format(
                kind=lesson.error_type, message=lesson.message
            ),
            icon="⚠️",
        )
    else:
        refused = lesson.code.splitlines()[-1].split("  #")[0]
        fix = lesson.fix_code.split("  #")[0]
        show_error(
            Refusal(
                lesson.error_type,
                lesson.message,
                lesson.lesson,
                _("`{fix}` (run below)").format(fix=fix),
            ),
            call=refused,
        )
    if lesson.outcome is not Outcome.ERROR:
        st.markdown(_("**Why:** {lesson}").format(lesson=lesson.lesson))
    st.markdown(_("**Fix:**"))
    st.code(lesson.fix_code, language="python")
    if lesson.fix_result:
        st.markdown(
            _("Fix run live → `{result}`").format(result=lesson.fix_result)
            if lesson.fix_shares is None
            else _(
                "Fix run live → `{result}` · shares memory with the original: **{shares}**"
            ).format(result=lesson.fix_result, shares=lesson.fix_shares)
        )


def item_result(res: ItemResult) -> None:
    st.code(res.tensor_repr, language="python")
    if res.ok:
        st.success(
            _("`t.item()` → `{value}` (Python type: `{type}`)").format(
                value=res.value_repr, type=res.python_type
            )
        )
    else:
        show_error(
            Refusal(
                res.error_type,
                res.error_message,
                _(".item() turns exactly one element into a Python number."),
                _("Use `t.tolist()` for all of them, or pick one first: `{code}`.").format(
                    code=res.first_item_code
                ),
            ),
            call="t.item()",
        )
        st.markdown(
            f"`t.tolist()` → `{res.tolist_repr}`  \n`{res.first_item_code}` → "
            f"`{res.first_item_repr}`"
        )
    if res.note:
        st.caption(res.note)


# ---------------------------------------------------------------- tab: errors as lessons


def _error_controls(_shared: object) -> ErrorCase:
    st.markdown(
        _(
            "Each case below runs the real call on this server and shows torch's own message, "
            "then runs the fix."
        )
    )
    return st.selectbox(
        _("case"),
        choices(ErrorCase),
        format_func=shown(choices(ErrorCase)),  # the English value stays the option
        **STATE.widget("error_case"),
    )


ERRORS: Section[ErrorCase, ErrorLesson] = Section(
    "errors",
    _error_controls,
    run_error_lesson,
    lambda _case, lesson, _views: error_lesson(lesson),
    lambda _case, lesson: lesson.snippet,
    label=ERRORS_TAB,
)


# ---------------------------------------------------------------- tab: .item()


@dataclass(frozen=True, slots=True)
class ItemRequest:
    shape: ItemShape
    dtype: ItemDtype
    value: float


def _item_controls(_shared: object) -> ItemRequest:
    st.markdown(
        _(
            "`.item()` turns a **one-element** tensor into a plain Python number. "
            "Any shape works as long as it holds exactly one element."
        )
    )
    i1, i2, i3 = st.columns(3)
    shape = i1.selectbox(_("tensor shape"), choices(ItemShape), **STATE.widget("item_shape"))
    dtype = i2.selectbox(_("dtype"), choices(ItemDtype), **STATE.widget("item_dtype"))
    value = i3.number_input(_("first value"), value=0.1, step=0.1, **STATE.widget("item_value"))
    return ItemRequest(shape, dtype, float(value))


ITEM: Section[ItemRequest, ItemResult] = Section(
    "item",
    _item_controls,
    lambda req: item_lesson(req.shape, req.dtype, req.value),
    lambda _req, res, _views: item_result(res),
    lambda _req, res: res.snippet,
    label=ITEM_TAB,
)
