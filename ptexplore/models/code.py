"""The few lines of plain PyTorch that reproduce what the model explorer shows."""

from __future__ import annotations

from ptexplore.models import catalog


def explorer_code(
    key: str,
    num_classes: int | None,
    input_shape: tuple[int, ...],
    *,
    frozen: tuple[str, ...] = (),
    name_filter: str = "",
    weights_file: str | None = None,
) -> str:
    imports, expr = catalog.constructor_code(key, num_classes)
    lines = [
        "import torch",
        "from torch.utils.flop_counter import FlopCounterMode",
        imports,
        "",
        f"model = {expr}",
    ]
    if weights_file is not None:
        lines += [
            f"state = torch.load({weights_file!r}, map_location='cpu', weights_only=True)",
            "result = model.load_state_dict(state, strict=False)",
            "print('missing:', result.missing_keys, 'unexpected:', result.unexpected_keys)",
        ]
    for g in frozen:
        lines.append(f"model.{g}.requires_grad_(False)  # freeze")
    lines += [
        "",
        "# the parameter table",
        "for name, p in model.named_parameters():",
        "    print(name, tuple(p.shape), p.numel(), p.dtype, p.requires_grad)",
        "total = sum(p.numel() for p in model.parameters())",
        "trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)",
        "print(f'total {total:,}  trainable {trainable:,}  frozen {total - trainable:,}')",
    ]
    if name_filter:
        lines += [
            "",
            "# the name filter",
            "for name, layer in model.named_modules():",
            f"    if {name_filter!r} in name:",
            "        print(name, '-', type(layer).__name__)",
        ]
    lines += [
        "",
        "# output shapes and MACs (1 multiply-add = 2 FLOPs)",
        "model.eval()",
        f"x = torch.zeros{tuple(input_shape)}",
        "with torch.no_grad(), FlopCounterMode(display=False) as counter:",
        "    out = model(x)",
        "print(tuple(out.shape), counter.get_total_flops() // 2, 'MACs')",
    ]
    return "\n".join(lines) + "\n"
