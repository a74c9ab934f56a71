"""The exact PyTorch lines behind what the lab shows, generated from the same config."""

from __future__ import annotations

from collections.abc import Sequence

from ptexplore.view.lab import LabConfig, base_expr, method_call, source_expr, unravel


def lab_code(
    config: LabConfig,
    writes: Sequence[tuple[int, int]] = (),
    result_shape: tuple[int, ...] | None = None,
) -> str:
    """Code that rebuilds ``x`` and ``y`` and prints every number the page shows.

    ``result_shape`` (the shape ``y`` really got) turns reading-order write positions into
    ``y[i, j] = value`` lines; without it no writes are emitted.
    """
    call = method_call(config)
    lines = [
        "import torch",
        "",
        f"base = {base_expr(config)}",
        f"x = {source_expr(config)}",
        "",
        "def facts(t):",
        "    return (tuple(t.shape), t.stride(), t.storage_offset(), t.is_contiguous(),",
        "            hex(t.data_ptr()))",
        "",
        'print("x:", facts(x))',
        "try:",
        f"    y = {call}",
        "except (RuntimeError, IndexError) as err:  # torch refuses; its message says why",
        '    print("error:", err)',
        "else:",
    ]
    if writes and result_shape is not None:
        for pos, value in writes:
            idx = unravel(pos, result_shape)
            index = ", ".join(map(str, idx)) if idx else "..."
            lines.append(f"    y[{index}] = {value}  # write through y")
    lines += [
        '    print("y:", facts(y))',
        "    same = y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()",
        '    print("shares storage:", same, "| same data_ptr:", y.data_ptr() == x.data_ptr())',
        '    print("x =", x.tolist())',
        '    print("y =", y.tolist())',
    ]
    return "\n".join(lines) + "\n"
