"""The PyTorch lines that reproduce exactly what the lab shows (built from the same inputs)."""

from __future__ import annotations

from ptexplore.tensors.lab import Lab, LabSpec, array_code, tensor_code


def lab_code(spec: LabSpec, actions: list[str] | None = None) -> str:
    """Setup (array + bridge), the learner's actions in order, then the same measurements."""
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
    if spec.hop.value == ".cuda()":
        lines.append("print('shares memory: False (t is on', t.device, ')')")
    else:
        lines.append("print('np.shares_memory(a, t.numpy()):', np.shares_memory(a, t.numpy()))")
    lines += [
        "print('dtypes:', a.dtype, t.dtype)",
        "print('strides: a (bytes)', a.strides, '| t (elements)', t.stride())",
        "print('id(a), id(t):', id(a), id(t), '# object identity only, not memory')",
    ]
    return "\n".join(lines)


def code_for(lab: Lab) -> str:
    return lab_code(lab.spec, [r.code for r in lab.history])
