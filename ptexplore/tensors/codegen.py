"""The script behind the memory-sharing tab: the very lines the lab ran, then the same
measurements the page shows (no addresses or ids: they differ from run to run, so a
fresh interpreter prints exactly what the page shows)."""

from __future__ import annotations

from ptexplore.tensors.lab import Hop, Lab, LabSpec, array_code, tensor_code


def lab_code(spec: LabSpec, actions: list[str] | None = None) -> str:
    """Setup (array + bridge), the learner's actions in order, then the measurements."""
    lines = [
        "import numpy as np",
        "import torch",
        "",
        array_code(spec),
        tensor_code(spec),
    ]
    if actions:
        lines.append("")
        lines.extend(actions)
    lines += [
        "",
        "print('a =', a, sep='\\n')",
        "print('t =', t, sep='\\n')",
        "a_ptr = a.__array_interface__['data'][0]",
        "print('t.data_ptr() == a ptr:', t.data_ptr() == a_ptr)",
    ]
    if spec.hop is Hop.CUDA:
        lines.append("print('shares memory: False (t is on', t.device, ')')")
    else:
        lines.append("print('np.shares_memory(a, t.numpy()):', np.shares_memory(a, t.numpy()))")
    lines += [
        "print('dtypes:', a.dtype, t.dtype)",
        "print('strides: a (bytes)', a.strides, '| t (elements)', t.stride())",
        "print('a is t:', a is t, '# two objects, whatever their memory')",
    ]
    return "\n".join(lines)


def code_for(lab: Lab) -> str:
    return lab_code(lab.spec, [r.code for r in lab.history])
