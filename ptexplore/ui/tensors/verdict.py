"""The measured verdict on the learner's ``a`` and ``t`` (metrics, explanation, the
address/stride table, the rebinding note) and why ``id()`` proves nothing about memory."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ptexplore.i18n import _
from ptexplore.tensors import Lab, Verdict, id_lesson, tensor_values
from ptexplore.tensors.tables import report_table

SHARES_CALL = "np.shares_memory(a, t.numpy())"


def sharing_verdict(lab: Lab) -> None:
    """The measured verdict: metrics, explanation, address/stride table, rebinding note."""
    rep = lab.report()
    m1, m2, m3 = st.columns(3)
    m1.metric(_("verdict"), _("🔗 SHARED") if rep.verdict is Verdict.SHARED else _("✂️ SEPARATE"))
    m2.metric(
        SHARES_CALL,
        _("n/a (t on GPU)") if rep.shares_memory is None else str(rep.shares_memory),
    )
    m3.metric(_("t.data_ptr() == a's address"), str(rep.same_ptr))
    st.markdown(rep.explanation)
    t_values = tensor_values(lab.t)
    if (
        rep.verdict is Verdict.SEPARATE
        and t_values.shape == lab.a.shape
        and bool(np.array_equal(t_values, lab.a))
    ):
        st.info(
            _(
                "**Equal values, separate memory.** a and t hold the same numbers right now, "
                "but in two places: a's data starts at {a_ptr:#x}, t's at {t_ptr:#x}. Equal "
                "numbers are not shared memory: change one side and the other stays as it is."
            ).format(a_ptr=rep.np_ptr, t_ptr=rep.t_ptr),
            icon="🟰",
        )
    st.dataframe(report_table(rep), width="stretch")
    st.caption(
        _(
            "numpy strides count **bytes**, torch strides count **elements**: "
            "a.strides / a.itemsize = {strides}."
        ).format(strides=tuple(s // rep.np_itemsize for s in rep.np_strides_bytes))
    )
    if lab.old_a is not None and lab.t.device.type == "cpu":
        still = bool(np.shares_memory(lab.old_a, lab.t.numpy()))
        st.caption(
            _(
                "The array `t` was made with (id {id}, no longer named `a`) still shares "
                "memory with t: **True**. Only the name `a` moved."
            ).format(id=id(lab.old_a))
            if still
            else _(
                "The array `t` was made with (id {id}, no longer named `a`) shares memory "
                "with t: **False**: this bridge copied from the start, so rebinding `a` "
                "changed nothing about `t`'s memory."
            ).format(id=id(lab.old_a))
        )


def id_expander(lab: Lab) -> None:
    """Expander: two ``t.numpy()`` views are different objects over one buffer."""
    with st.expander(_("🪪 Why id() proves nothing about memory"), expanded=False):
        ids = id_lesson(lab.t)
        if ids is None:
            st.write(_("t is on the GPU: t.numpy() is not possible, so there is no view."))
        else:
            st.markdown(
                _(
                    "`n1 = t.numpy(); n2 = t.numpy()` (both kept alive):\n\n"
                    "- `id(n1)` = {first}, `id(n2)` = {second} → "
                    "`n1 is n2` is **{same_object}** (two Python objects)\n"
                    "- `np.shares_memory(n1, n2)` is **{share}**, same data "
                    "address: **{same_ptr}** (one buffer)\n"
                    "- `id(t.numpy()) == id(t.numpy())` → "
                    "**{temporaries}** here: the first temporary is freed "
                    "before the second is made, so CPython may reuse its id.\n\n"
                    "`id()` is the Python object's identity. Memory is answered by "
                    "`np.shares_memory` or by comparing data pointers."
                ).format(
                    first=ids.first_id,
                    second=ids.second_id,
                    same_object=ids.same_object,
                    share=ids.share_memory,
                    same_ptr=ids.same_ptr,
                    temporaries=ids.temporaries_same_id,
                )
            )
