"""Export a pipeline as runnable Python and as JSON; import the JSON back.

The Python reproduces the preview's seeding scheme exactly: ``torch.manual_seed(seed)``, then
sample ``i`` is the ``i``-th call of ``pipeline(img)``. Run on the same uint8 image tensor,
it returns tensors equal to the preview's (tests execute the generated code).
:func:`grid_snippet` is the lab's code panel: the script and what it prints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import torch
import torchvision

from ptexplore.augment.catalog import Kind, ParamSpec, Value, spec_for
from ptexplore.augment.pipeline import Pipeline, Step, pipeline_from_mapping
from ptexplore.augment.preview import Grid, draw_grid
from ptexplore.augment.targets import Annotations
from ptexplore.errors import InputError, LessonError
from ptexplore.i18n import N_, _
from ptexplore.images.decode import Conversion, DecodedImage
from ptexplore.images.samples import SAMPLES_DIR
from ptexplore.limits import PIPELINE_MAX_JSON_CHARS as MAX_JSON_CHARS
from ptexplore.live import Snippet
from ptexplore.text import code_span

JSON_FORMAT = "ptexplore.augment.pipeline"
JSON_VERSION = 1


def _literal(param: ParamSpec, value: Value) -> str:
    if param.none_value is not None and value == param.none_value:
        return "None"
    if param.name == "interpolation":
        return f"v2.InterpolationMode.{str(value).upper()}"
    if param.name == "dtype":
        return f"torch.{value}"
    if param.name == "policy":
        return f"v2.AutoAugmentPolicy.{str(value).upper()}"
    if param.kind is Kind.FILL and isinstance(value, tuple):
        return "[" + ", ".join(repr(float(v)) for v in value) + "]"
    if param.kind is Kind.FILL and isinstance(value, int | float):
        return repr(float(value))
    if param.kind is Kind.TRIPLE:
        assert isinstance(value, tuple)
        return "[" + ", ".join(repr(float(v)) for v in value) + "]"
    if param.kind in (Kind.RANGE, Kind.PAIR):
        assert isinstance(value, tuple)
        return "(" + ", ".join(repr(float(v)) for v in value) + ")"
    if param.kind is Kind.SIZE and isinstance(value, tuple):
        return "(" + ", ".join(str(int(v)) for v in value) + ")"
    if param.kind is Kind.FLOAT and isinstance(value, int | float):
        return repr(float(value))
    return repr(value)


def step_code(step: Step) -> str:
    """``v2.Name(arg=value, ...)``: required args always, others only when not default."""
    spec = spec_for(step.name)
    args = []
    for p in spec.params:
        value = step.get(p.name)
        if p.required or value != p.default:
            args.append(f"{p.name}={_literal(p, value)}")
    return f"v2.{step.name}({', '.join(args)})"


def compose_code(pipeline: Pipeline) -> str:
    lines = ["pipeline = v2.Compose(["]
    for i, step in enumerate(pipeline.steps, start=1):
        code = step_code(step)
        if step.enabled:
            lines.append(f"    {code},  # {i}")
        else:
            lines.append(f"    # {code},  # {i} (disabled in the lab)")
    lines.append("])")
    return "\n".join(lines)


#: The lines that load ``IMAGE_PATH`` into ``img`` exactly as the lab's decoder does.
_LOAD_CODE: dict[Conversion, str] = {
    Conversion.RGB: """\
# Load like the lab does: EXIF orientation applied, RGB, uint8 tensor of shape (3, H, W).
with Image.open(IMAGE_PATH) as im:
    img = v2.functional.pil_to_tensor(ImageOps.exif_transpose(im).convert("RGB"))""",
    Conversion.ON_WHITE: """\
# Load like the lab does: EXIF orientation applied, transparency composited on white,
# RGB, uint8 tensor of shape (3, H, W).
with Image.open(IMAGE_PATH) as im:
    rgba = ImageOps.exif_transpose(im).convert("RGBA")
white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
img = v2.functional.pil_to_tensor(Image.alpha_composite(white, rgba).convert("RGB"))""",
    Conversion.SCALE_16: """\
# Load like the lab does: EXIF orientation applied, 16-bit values scaled 0-65535 -> 0-255
# (convert("RGB") would clip them at 255), 3 identical channels, uint8 (3, H, W).
import numpy as np

with Image.open(IMAGE_PATH) as im:
    raw = np.asarray(ImageOps.exif_transpose(im)).astype(np.uint32)
gray = torch.from_numpy(((raw * 255 + 32767) // 65535).astype(np.uint8))
img = gray.expand(3, -1, -1).contiguous()""",
    Conversion.MIN_MAX: """\
# Load like the lab does: EXIF orientation applied, values rescaled min-max to 0-255
# (NaN/inf set to the minimum), 3 identical channels, uint8 (3, H, W).
import numpy as np

with Image.open(IMAGE_PATH) as im:
    raw = np.asarray(ImageOps.exif_transpose(im)).astype(np.float64)
finite = np.isfinite(raw)
lo, hi = raw[finite].min(), raw[finite].max()
raw = np.where(finite, raw, lo)
gray = np.round((raw - lo) / ((hi - lo) if hi > lo else 1.0) * 255.0).astype(np.uint8)
img = torch.from_numpy(gray).expand(3, -1, -1).contiguous()""",
}


def _floats(values: Sequence[float]) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def target_code(ann: Annotations, mask_path: str | None) -> str:
    """The lines that build the photo's target as a detection dataset returns it: the same
    ``BoundingBoxes`` (the format it was declared in), labels, one ``Mask`` per box (read
    from the instance-id PNG at ``mask_path``) and ``KeyPoints`` the lab transformed."""
    h, w = ann.canvas
    names = ", ".join(ann.name_of(label) for label in ann.labels)
    lines = [
        "# The photo's target, as a detection dataset returns it. canvas_size is (H, W).",
        f"H, W = {h}, {w}",
        "assert tuple(img.shape[-2:]) == (H, W), 'the annotations are for a photo of this size'",
        "target = {",
        '    "boxes": tv_tensors.BoundingBoxes(',
        "        [",
        *[f"            {_floats(b)}," for b in ann.boxes],
        "        ],",
        f"        format={ann.box_format.value!r},",
        "        canvas_size=(H, W),",
        "    ),",
        f'    "labels": torch.tensor({list(ann.labels)!r}),  # {names}',
        "}",
    ]
    if ann.mask_png is not None and mask_path is not None:
        lines += [
            f"MASK_PATH = {mask_path!r}  # pixel value i + 1 marks box i's instance, 0 the rest",
            "with Image.open(MASK_PATH) as im:",
            "    ids = torch.from_numpy(np.array(im, dtype=np.uint8))",
            'target["masks"] = tv_tensors.Mask(',
            '    torch.stack([ids == i + 1 for i in range(len(target["boxes"]))]).to(torch.uint8)',
            ")",
        ]
    if ann.keypoints:
        points = ", ".join(_floats(p) for p in ann.keypoints)
        lines.append(
            f'target["keypoints"] = tv_tensors.KeyPoints([{points}], canvas_size=(H, W))'
            f"  # {', '.join(ann.keypoint_names)}"
        )
    return "\n".join(lines)


def export_code(
    pipeline: Pipeline,
    *,
    seed: int,
    n: int,
    image_path: str = "your_image.jpg",
    source_note: str | None = None,
    conversion: Conversion = Conversion.RGB,
    target: Annotations | None = None,
    mask_path: str | None = None,
) -> str:
    """A complete, runnable script that rebuilds the preview grid's tensors.

    ``conversion`` is :attr:`DecodedImage.conversion` of the previewed image, so the script
    turns the file into the very same uint8 tensor the lab used. With a ``target`` each
    sample is ``pipeline(img, target)``: the image and its boxes, labels, masks and
    keypoints, transformed together (and fingerprinted too).
    """
    note = f"\n# Note: {source_note}" if source_note else ""
    version = torchvision.__version__
    if target is None:
        head = (
            "import torch\nfrom PIL import Image, ImageOps\nfrom torchvision.transforms import v2"
        )
        build, call, show = "", "pipeline(img)", _SHOW
    else:
        head = (
            "import numpy as np\nimport torch\nfrom PIL import Image, ImageOps\n"
            "from torchvision import tv_tensors\nfrom torchvision.transforms import v2"
        )
        build = "\n\n" + target_code(target, mask_path)
        call, show = "pipeline(img, target)", _SHOW_TARGET
    return f'''"""Augmentation pipeline exported by ptexplore (torchvision {version})."""
import hashlib

{head}

{compose_code(pipeline)}

IMAGE_PATH = {image_path!r}
{_LOAD_CODE[Conversion(conversion)]}{note}{build}

# The lab's seeding scheme: seed torch's global RNG once, then sample i is the i-th call
# of {call}, in order. Same seed + same image -> the same tensors as the preview.
SEED = {int(seed)}
N = {int(n)}
torch.manual_seed(SEED)
samples = [{call} for _ in range(N)]
{show}'''


def _fp(name: str) -> str:
    return f"hashlib.sha256({name}.contiguous().numpy().tobytes()).hexdigest()[:12]"


_SHOW = f"""print(len(samples), "samples of shape", tuple(samples[0].shape), samples[0].dtype)
# a fingerprint of each sample's exact values: the lab shows the same ones
for i, s in enumerate(samples):
    print(i, {_fp("s")})
"""
_SHOW_TARGET = """first = samples[0][0]
print(len(samples), "samples of shape", tuple(first.shape), first.dtype)


def fingerprint(t):
    return hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()[:12]


# a fingerprint of each sample's exact values (image, boxes, masks): the lab shows the same
for i, (s, t) in enumerate(samples):
    masks = fingerprint(t["masks"]) if "masks" in t else "-"
    print(i, fingerprint(s), len(t["boxes"]), "boxes", fingerprint(t["boxes"]), "masks", masks)
"""


def fingerprint(t: torch.Tensor) -> str:
    """What the exported script prints for one sample (the first 12 hex of a sha256)."""
    plain = t.as_subclass(torch.Tensor)
    # the array's own buffer: the same bytes as the script's .tobytes(), without the copy
    return hashlib.sha256(plain.contiguous().numpy().data).hexdigest()[:12]


def export_output(
    samples: Sequence[torch.Tensor], targets: Sequence[dict[str, Any] | None] | None = None
) -> str:
    """What :func:`export_code` prints when its tensors equal ``samples`` (and, with a
    target, its targets equal ``targets``)."""
    first = samples[0]
    lines = [f"{len(samples)} samples of shape {tuple(first.shape)!r} {first.dtype}"]
    if targets is None:
        lines += [f"{i} {fingerprint(s)}" for i, s in enumerate(samples)]
    else:
        for i, (s, t) in enumerate(zip(samples, targets, strict=True)):
            assert t is not None
            masks = fingerprint(t["masks"]) if "masks" in t else "-"
            lines.append(
                f"{i} {fingerprint(s)} {len(t['boxes'])} boxes {fingerprint(t['boxes'])} "
                f"masks {masks}"
            )
    return "\n".join(lines) + "\n"


def image_script(
    pipeline: Pipeline,
    image: DecodedImage,
    *,
    seed: int,
    n: int,
    sample: bool,
    target: Annotations | None = None,
    mask_path: str | None = None,
) -> str:
    """:func:`export_code` for the lab's grid of ``image`` (a shipped ``sample`` photo or
    an upload)."""
    return export_code(
        pipeline,
        seed=seed,
        n=n,
        # a sample photo lives in the installed package's folder: an absolute path works
        # from any working directory
        image_path=str(SAMPLES_DIR / image.name) if sample else image.name,
        source_note=(
            f"the lab previewed a {image.size[0]}×{image.size[1]} downscaled copy of this "
            "image; on the full image the draws follow the same scheme at full size."
            if image.downscaled
            else None
        ),
        conversion=image.conversion,
        target=target,
        mask_path=mask_path,
    )


def grid_snippet(
    pipeline: Pipeline,
    image: DecodedImage,
    *,
    seed: int,
    n: int,
    sample: bool,
    grid: Grid | None = None,
    printed: str | None = None,
    target: Annotations | None = None,
    mask_path: str | None = None,
) -> Snippet:
    """The script and what it prints: exactly the grid's samples, when the grid was drawn
    from the full image (a downscaled preview cannot say what the full image gives).

    ``printed`` is that output when the caller has it already (a grid drawn with its
    tiles: :func:`ptexplore.augment.tiles.draw_tiles`). Without either the grid is drawn
    here (untraced); a pipeline that fails on this image gets a note instead of output (the
    tab that draws the grid shows why)."""
    code = image_script(
        pipeline, image, seed=seed, n=n, sample=sample, target=target, mask_path=mask_path
    )
    if image.downscaled:
        return Snippet(
            code,
            "",
            N_("run it for the full-size samples: the grid here came from a downscaled copy"),
        )
    if printed is not None:
        return Snippet(code, printed)
    if grid is None:
        try:
            grid = draw_grid(
                pipeline, image.pixels, seed=seed, n=n, trace_index=None, target=target
            )
        except LessonError:
            return Snippet(code, "", N_("the pipeline fails on this image: see the 🎲 Grid tab"))
    return Snippet(code, grid_output(grid, target))


def grid_output(grid: Grid, target: Annotations | None) -> str:
    """What the exported script prints for this grid's samples (and targets)."""
    samples = [s.tensor for s in grid.samples]
    return export_output(samples, None if target is None else [s.target for s in grid.samples])


def to_json(pipeline: Pipeline) -> str:
    data: dict[str, Any] = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "torchvision": torchvision.__version__,
        "steps": [
            {
                "transform": step.name,
                "enabled": step.enabled,
                "params": {k: list(v) if isinstance(v, tuple) else v for k, v in step.params},
            }
            for step in pipeline.steps
        ],
    }
    return json.dumps(data, indent=2)


def _no_constant(name: str) -> object:
    """``NaN``/``Infinity`` are not JSON numbers (Python's json reads them anyway)."""
    raise InputError(
        _("The JSON holds {name}, which is not a number a pipeline can use.").format(name=name),
        fix=_("Use ordinary numbers (an exported pipeline never holds NaN or Infinity)."),
    )


_IMPORT_FIX = N_("Import a file exported from this page.")


def from_json(text: str) -> Pipeline:
    """Parse exported JSON back into a validated Pipeline (learner-facing errors)."""
    if len(text) > MAX_JSON_CHARS:
        raise InputError(
            _(
                "This JSON is {n:,} characters; a pipeline export is far smaller (limit {most:,})."
            ).format(n=len(text), most=MAX_JSON_CHARS),
            fix=_(_IMPORT_FIX),
        )
    if not text.strip():
        raise InputError(_("The JSON is empty."), fix=_("Paste or upload an exported pipeline."))
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise InputError(
            _("This is not valid JSON: {error} at line {line}, column {column}.").format(
                error=err.msg, line=err.lineno, column=err.colno
            ),
            fix=_("Import a file exported from this page without editing its syntax."),
        ) from err
    except (ValueError, RecursionError) as err:  # a 5000-digit number, [[[[…]]]] nesting
        raise InputError(
            _(
                "This JSON cannot be read: it holds a number with thousands of digits or "
                "thousands of nested brackets."
            ),
            fix=_(_IMPORT_FIX),
        ) from err
    if not isinstance(data, dict):
        raise InputError(
            _("The JSON must be an object with a “steps” list."),
            fix=_(_IMPORT_FIX),
        )
    fmt = data.get("format", JSON_FORMAT)
    if fmt != JSON_FORMAT:
        raise InputError(
            _("This JSON is a {format}, not a ptexplore augmentation pipeline.").format(
                format=code_span(str(fmt), limit=40)
            ),
            fix=_(_IMPORT_FIX),
        )
    version = data.get("version", JSON_VERSION)
    if version != JSON_VERSION:
        raise InputError(
            _("Pipeline format version {version} is not supported (only {supported}).").format(
                version=code_span(repr(version), limit=20), supported=JSON_VERSION
            ),
            fix=_("Export the pipeline again from this version of ptexplore."),
        )
    return pipeline_from_mapping(data)
