"""Every bound ptexplore puts on untrusted input and on expensive work, in one place.

A classroom server runs every learner's reruns in one process, so each limit here is what
keeps one learner's input (an upload, a typed shape, a slider pushed to its end) from
costing the whole room. Modules import their limits from here; nothing else defines one.

Expensive work (benchmarks, real model builds, full-resolution grids, later DataLoader
workers) also runs under :func:`heavy`, one process-wide semaphore: cheap reruns never
wait, and heavy jobs queue instead of all running at once on a 2-core laptop. A page can
register a callback (:func:`on_wait`) to say "waiting for a free worker" while it queues.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ptexplore.errors import LessonError
from ptexplore.i18n import _

# ------------------------------------------------------------------------------ uploads

#: One uploaded file, in bytes. Equals ``server.maxUploadSize`` (50 MB) in
#: .streamlit/config.toml (a test ties the two): the widget's own limit is enforced by the
#: browser only, so the library checks sizes again.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# -------------------------------------------------------------------------- checkpoints
# (values chosen by measurement: see the comments; tests/test_checkpoint_*.py pin them)

#: Most entries in a torch.save zip archive: one per storage plus 6 (resnet50's state_dict
#: has 326, efficientnet_b7's with its Adam state 3,339). Read from the end record before
#: any parsing: 150,001 entries are refused in under 1 ms.
CKPT_MAX_ENTRIES = 10_000
#: Most tensors (and storage references) one checkpoint may rebuild: torch.load costs
#: 50-120 µs per tensor here, so 10,000 load in ~0.8 s (1.3 s CPU with every check;
#: efficientnet_b7 + Adam state, the most in torchvision, has 3,333).
CKPT_MAX_TENSORS = 10_000
#: Largest pickle (data.pkl, or a legacy stream's main pickle) read: torch.save writes
#: ~90-140 bytes per tensor (efficientnet_b7 + Adam: 0.3 MB). torch's weights-only
#: unpickler is pure Python: the worst opcodes that pass every check cost ≤ 1 s CPU per MB
#: here end to end (the tester measured up to ~1.5 s per MB of raw opcodes).
CKPT_MAX_PICKLE_BYTES = 1 * 2**20
#: Largest sum of declared uncompressed sizes of an uploaded archive's entries (torch.save
#: stores entries uncompressed, so a real upload never declares more than its own size; a
#: 1 MB deflated upload declaring 1 GiB is refused with +1 MB peak RSS).
CKPT_MAX_DECLARED_BYTES = MAX_UPLOAD_BYTES
#: Largest checkpoint file read from disk (the torch hub cache; memory-mapped). torchvision's
#: biggest published weights (regnet_y_128gf, vit_h_14) are ~2.6 GB.
CKPT_MAX_FILE_BYTES = 8 * 2**30
#: Containers (and memo entries) a pickle may build per tensor it may hold: torch.save
#: writes about 8 of each per tensor (measured: resnet50, vit_b_16 and efficientnet_b7
#: state_dicts, alone and with Adam's state), so twice that. Each container costs the C
#: unpickler and torch's a garbage-collector-tracked object (1 M empty lists cost ~1 s in
#: a process that has imported torch), so this × CKPT_MAX_TENSORS bounds them.
CKPT_OBJECTS_PER_TENSOR = 16
#: Deepest nesting of containers in a checkpoint's pickle (a state_dict nests 4 deep, a
#: checkpoint dict with Adam state 6). Tuples nested a million deep crash CPython's C
#: unpickler when hashed; refused at depth 33 in under 1 ms.
CKPT_MAX_DEPTH = 32
#: Largest safetensors JSON header (10,000 tensors' header takes 0.8 MB).
SAFETENSORS_MAX_HEADER_BYTES = 1 * 2**20

# ------------------------------------------------------------------- checkpoint lab
# (ptexplore/checkpoints/{inspector,save,recipes}.py, ptexplore/ckpt/layout.py;
# tests/test_checkpoint_lab_*.py).
# Inspecting reads indexes only (torch.load on "meta" under skip_data, or the safetensors
# JSON header): a 1.6 GB file took 2 ms and +0 MB peak RSS here. Saving and loading build
# real models (checkpoints.lessons.LAB_MODELS), under the heavy-work semaphore; measured on
# 2 shared cores, 1 intra-op thread: resnet18 saved 0.17 s (0.33 s with one SGD step and
# its optimizer state), a whole load lesson (make a 1000-class checkpoint, build the
# 10-class target, compare, load, prove) 0.3-0.4 s and ≈ +90 MB peak while it runs.

#: Rows of a checkpoint's structure table (containers and plain values; tensors have
#: their own table, bounded by CKPT_MAX_TENSORS).
CKPT_LAB_MAX_ROWS = 400
#: Characters of one plain value (a str, a long list's repr) shown before it is cut.
CKPT_LAB_VALUE_CHARS = 120
#: Characters of a safetensors JSON header shown (10,000 tensors' header takes 0.8 MB).
CKPT_LAB_HEADER_CHARS = 12_000
#: Files of the torch hub cache folder listed (a cache of every torchvision model has ~120).
CKPT_LAB_MAX_HUB_FILES = 200
#: Largest epoch, and longest "stage" text, a learner may put in a checkpoint dict.
CKPT_LAB_MAX_EPOCH = 100_000
CKPT_LAB_MAX_STAGE_CHARS = 40
#: Keys a code panel prints before it counts the rest (the page's tables list them all).
CKPT_LAB_KEYS_PRINTED = 5

# ------------------------------------------------------------------------------- images

#: Decompression-bomb cap for one decoded image: 40 megapixels (a 12 MP phone photo fits
#: three times over; a 40 MP RGB image is 120 MB as uint8).
MAX_PIXELS = 40_000_000
#: Images smaller than this on either side are refused: nothing meaningful to augment.
MIN_SIDE = 8
#: Longest/shortest side above this is refused (a 1×10 000 strip is not a photo).
MAX_ASPECT = 25.0
#: Above this aspect ratio the image is accepted with a warning note.
WARN_ASPECT = 4.0
#: Most uploaded images one learner's session uses at once.
MAX_UPLOAD_FILES = 8
#: Most pixels the uploads of one session may decode to in all (two 40 MP photos).
MAX_SESSION_PIXELS = 80_000_000
#: Most frames an animated/multi-page image may declare (only the first is used).
MAX_FRAMES = 256

# --------------------------------------------------------------------------- tensor lab

#: Largest side of the array the Tensor lab edits cell by cell (tables stay readable).
TENSOR_MAX_DIM = 12
TENSOR_MAX_ELEMENTS = TENSOR_MAX_DIM * TENSOR_MAX_DIM
#: Conversion benchmark: most arrays per path, and N × repeats (the slow path costs about
#: 37 µs per array on a 2-core box, so the capped run stays under a few seconds).
BENCH_MAX_N = 50_000
BENCH_MAX_WORK = 60_000

# ----------------------------------------------------------------------------- view lab

#: Most sizes in a typed shape, and most elements in a source tensor (every element is a
#: drawn cell).
VIEW_MAX_DIMS = 6
VIEW_MAX_ELEMENTS = 10_000
#: Longest text accepted where a shape is typed (a shape is a few numbers).
MAX_SHAPE_CHARS = 200
#: Longest integer literal in a typed size (10,000 has 5 digits; a sign adds one).
MAX_SIZE_DIGITS = 7
#: Largest step of the view lab's step slice, and the values written through ``y`` stay
#: within ±VIEW_MAX_WRITE (readable cells, no int64 overflow).
VIEW_MAX_STEP = 10
VIEW_MAX_WRITE = 999_999

# ------------------------------------------------------------------------------- models

#: At or below this many parameters a model may be built for real (full random init, the
#: same numbers plain PyTorch gives); above it only the one tensor looked at is made.
REAL_BUILD_MAX_PARAMS = 30_000_000
#: Largest input side and batch for the shape/MACs trace (it runs on meta: no memory).
TRACE_MAX_SIDE = 2048
TRACE_MAX_BATCH = 1024
#: Largest ``num_classes`` a learner may type.
MAX_NUM_CLASSES = 100_000

# --------------------------------------------------------- user models / timm / summary
# Only the operator adds models (PTEXPLORE_MODELS, ``serve --model``, ``make run MODELS=``):
# these bound what one environment variable or command line may ask for
# (ptexplore/models/user.py, ptexplore/summary.py; tests/test_user_models.py pins them).

#: Most models one PTEXPLORE_MODELS may register (each is imported and built on meta at
#: start-up: ~0.1 s apiece for a torchvision-sized model).
USER_MAX_MODELS = 64
#: Longest PTEXPLORE_MODELS text, and longest single spec (an import path, its JSON
#: keyword arguments and its ``@1,3,224,224`` input).
USER_MAX_ENV_CHARS = 64_000
USER_MAX_SPEC_CHARS = 2_000
#: Most dimensions of an ``--input`` / ``@…`` shape, and the largest size of any one of them
#: (the trace runs on meta, so sizes cost nothing; the bound keeps numbers readable).
USER_MAX_INPUT_DIMS = 8
USER_MAX_INPUT_SIZE = 65_536
#: Deepest ``--depth`` of a ``ptexplore summary`` table (timm's deepest models nest 9).
SUMMARY_MAX_DEPTH = 64

# ------------------------------------------------------------------------- augmentation

#: Most samples in one grid.
GRID_MAX_SAMPLES = 64
#: Most memory one augmentation request may take, estimated before it runs
#: (ptexplore/augment/budget.py): the grid's outputs, the step trace's intermediates and
#: the largest step's working memory. A full-resolution 12 MP photo through
#: ToDtype(float32) is 144 MB per sample, so 64 of them would need 9 GB.
GRID_MAX_BYTES = 512 * 2**20
#: Most CPU time one augmentation request (a grid, the train-vs-val comparison) may take
#: by the calibrated cost model of ptexplore/augment/budget.py (bench/augment_budget.py;
#: 1 intra-op thread). GaussianBlur(101) on a 12 MP photo is
#: ~45 s per sample, a default 16-sample train grid on it ~0.4 s.
AUGMENT_MAX_CPU_S = 2.0
#: Longest one step call may hold the process-wide RNG lock (a step whose forward mixes
#: draws and work, i.e. AugMix, holds it throughout): every other learner's draw waits.
AUGMENT_MAX_LOCKED_S = 0.05
#: Smallest GaussianBlur kernel_size refused on a float16 tensor: PyTorch's CPU float16
#: conv path at k=13 blurs a 3×32×32 image in ~2 ms, at k=15 it ran > 4 min without
#: finishing (measured by bench/augment_budget.py, torch 2.14).
F16_BLUR_MAX_KERNEL = 15
#: A grid whose source image has more pixels than this counts as heavy work.
HEAVY_GRID_PIXELS = 1_000_000
#: Most steps in a pipeline (a guard for JSON imports and button mashing).
PIPELINE_MAX_STEPS = 32
#: Largest pipeline JSON accepted on import.
PIPELINE_MAX_JSON_CHARS = 200_000

# ----------------------------------------------------------------------------- sandbox
# (ptexplore/isolate.py; tests/test_isolate.py pins them). A sandboxed job runs in a process
# forked from a clean, preloaded helper; the kernel enforces these, so a native crash, a
# memory blow-up or a spin ends that job only. Memory is address space *added* to what the
# preloaded helper already maps (torch maps ~1-3 GB of virtual space before any work).
#: address space one job may add, MB (decoding a 40 MP upload peaks at ~0.5 GB here)
SANDBOX_MAX_MEMORY_MB = 1536
#: CPU seconds one job may use (RLIMIT_CPU; SIGKILL one second after)
SANDBOX_MAX_CPU_S = 20
#: wall-clock seconds one job may take before it is killed
SANDBOX_MAX_WALL_S = 30.0
#: jobs running at once per replica (the rest queue in the helper, first come first served)
SANDBOX_MAX_JOBS = 4
#: intra-op threads of torch inside a job (process-local: no lock needed)
SANDBOX_THREADS = 1
#: the largest result a job may send back, bytes
SANDBOX_MAX_RESULT_BYTES = 768 * 2**20
#: what decoding one upload may add, MB: a 40 MP image peaked at +500 MB (RGB PNG or JPEG),
#: +600 MB (16-bit PNG) and +717 MB (RGBA PNG) here
SANDBOX_DECODE_MEMORY_MB = 1024
#: what reading one uploaded checkpoint may add, MB (uploads are at most MAX_UPLOAD_BYTES;
#: torch.load of a 50 MB file holds it about twice)
SANDBOX_UPLOAD_MEMORY_MB = 768
#: what one augmentation grid or step trace may add, MB: its outputs (GRID_MAX_BYTES, the
#: budget's worst case) plus the working memory of the largest step and the input's copy
SANDBOX_GRID_MEMORY_MB = GRID_MAX_BYTES // 2**20 + 1024
#: CPU seconds one grid may use in its sandbox: the budget refuses estimates over
#: AUGMENT_MAX_CPU_S up front; this is the kernel's backstop for an estimate that was wrong
SANDBOX_GRID_CPU_S = 10
SANDBOX_GRID_WALL_S = 20.0
#: what one real model build for its values may add, MB: REAL_BUILD_MAX_PARAMS float32
#: parameters (120 MB) built twice over by their init code, or one tensor of a big model
SANDBOX_BUILD_MEMORY_MB = 1536
#: A child that ran a reusable job (the app's own work on checked inputs: grids, builds,
#: DataLoader runs) stays warm for the next one: a fresh fork pays a page fault for every
#: page it touches (7,000 for a first grid, ~30 ms here; a warm child ~100). At most this
#: many wait idle per replica; each runs at most SANDBOX_REUSE_JOBS jobs, and ends instead
#: of waiting once it holds more than SANDBOX_REUSE_MAX_MB of its own memory.
SANDBOX_IDLE_CHILDREN = 2
SANDBOX_REUSE_JOBS = 200
SANDBOX_REUSE_MAX_MB = 512
#: seconds a cancelled job has to end its own processes (after SIGTERM) before SIGKILL
SANDBOX_CANCEL_GRACE_S = 2.0
#: seconds the helper may take to start (it imports torch and torchvision once)
SANDBOX_START_S = 60.0

# --------------------------------------------------------------------- DataLoader lab
# (ptexplore/data; tests/test_data_*.py pin them). Every run starts real worker processes.

#: Most DataLoader worker processes one run may start (the num_workers slider's end).
DATA_MAX_WORKERS = 4
#: Most items in a dataset the lab builds, and the largest batch_size.
DATA_MAX_ITEMS = 64
DATA_MAX_BATCH = 16
#: Largest per-item sleep and per-batch "training step" sleep, in milliseconds.
DATA_MAX_ITEM_MS = 200
DATA_MAX_STEP_MS = 200
#: Largest prefetch_factor, and most epochs per run.
DATA_MAX_PREFETCH = 4
DATA_MAX_EPOCHS = 2
#: Most work one run may plan, estimated before it starts: the sum of its per-item costs
#: and training steps, in seconds, as if it ran without workers (a sweep sums its runs).
DATA_MAX_WORK_S = 6.0
#: Hard limit on one run's wall time: past it ptexplore stops the run's worker processes
#: (the DataLoader then raises within its per-batch ``timeout``).
DATA_RUN_LIMIT_S = 30.0
#: Every run is a sandboxed job (its DataLoader's main loop in a child of the sandbox
#: helper; its workers are forks of the helper's forkserver): what that main process may
#: add, MB (the photo epochs lesson's decoded images and batches are the largest), its CPU
#: seconds, and the wall time it gets past the run's own limit to end its workers and answer
#: (more than a batch's timeout: the DataLoader notices stopped workers only then).
SANDBOX_DATA_MEMORY_MB = 1024
SANDBOX_DATA_CPU_S = int(DATA_RUN_LIMIT_S)
SANDBOX_DATA_SLACK_S = 30.0
#: The per-batch ``timeout=`` every DataLoader of the lab gets is the batch's planned
#: work times 3 plus this much, in seconds: worker start-up under load — and at a
#: learner's home the first batch also waits for the forkserver to import torch and the
#: script (2.5–5.7 s measured here; the lab's forkserver is already warm). A run past
#: its hard limit has its workers stopped; its DataLoader notices within this timeout.
DATA_BATCH_TIMEOUT_SLACK_S = 10.0
#: Longest a learner's new run waits for their previous run to stop: at least
#: HEAVY_WAIT_S (the previous run may still be queued for the semaphore; it gives up as
#: soon as it gets it) plus DATA_RUN_LIMIT_S (a run that cannot be interrupted:
#: num_workers=0). A cancelled run with workers stops within its per-batch timeout.
DATA_SESSION_WAIT_S = 160.0

# ------------------------------------------------------------------------ autograd lab
# The freezing and BatchNorm demos run one real forward (and backward) of a catalog model
# on a random batch, under :func:`heavy`. Measured on 2 shared cores, 1 intra-op thread,
# nothing frozen: resnet18 at the default batch 2 × 64×64 ≈ 0.05 s (+ ≈ 0.1 s to build
# it), at the largest offered, 4 × 224×224, 0.35-1.3 s depending on load; the example
# Model (convs without stride) at 4 × 224×224 ≈ 1 s, the slowest choice.

#: Smallest batch: BatchNorm in train() mode needs more than one value per channel (a
#: 1-sample batch reaching a 1×1 feature map raises).
AUTOGRAD_MIN_BATCH = 2
#: Largest batch a learner may pick.
AUTOGRAD_MAX_BATCH = 4
#: The square input sides offered to image models, and the default (small and fast).
AUTOGRAD_SIDES = (32, 64, 112, 224)
AUTOGRAD_DEFAULT_SIDE = 64
#: Longest name pattern typed for "freeze where pattern in name".
AUTOGRAD_MAX_PATTERN_CHARS = 64

# ---------------------------------------------------------------------------- classroom

#: Most Streamlit replicas ``python -m ptexplore.serve`` starts behind the proxy (each
#: costs ~480 MB of private memory before any learner, ~860 MB resident with the shared
#: torch libraries, measured by bench/load.py; a class is CPU-bound, so more replicas than
#: cores only adds memory).
MAX_REPLICAS = 8
#: A process that exits is started again after this many seconds, doubled per crash …
RESTART_BACKOFF_S = 0.5
#: … up to this many;
RESTART_BACKOFF_MAX_S = 30.0
#: and given up on after this many crashes within CRASH_WINDOW_S seconds (a replica whose
#: import fails, or that is killed by something outside, does not restart for ever).
CRASH_LIMIT = 5
CRASH_WINDOW_S = 120.0
#: Replica ports start above the class's port; when that is inside the kernel's
#: ephemeral range (a test's free port), they start here instead.
REPLICA_PORT_FALLBACK = 20000
#: Most backends (replicas on other hosts) one front's HAProxy is given.
MAX_BACKENDS = 64
#: Longest text value a deep link (``?view.shape=…``) may put into a text box.
MAX_LINK_TEXT = 200

# ----------------------------------------------------------------------- heavy work

#: How many heavy jobs run at once: half the cores (at least one), so light reruns of the
#: rest of the class always find a free core. ``PTEXPLORE_HEAVY_SLOTS`` overrides it.
HEAVY_SLOTS = max(1, int(os.environ.get("PTEXPLORE_HEAVY_SLOTS", (os.cpu_count() or 2) // 2)))
#: Longest a heavy job waits for a free slot before the learner is told to try again.
HEAVY_WAIT_S = 120.0

_heavy = threading.BoundedSemaphore(HEAVY_SLOTS)
_local = threading.local()


def on_wait(callback: Callable[[str], None] | None) -> None:
    """Register (or clear) this thread's "waiting for a free worker" callback.

    :func:`heavy` calls it with the job's label when the job has to queue; the page shows
    a note. One callback per thread: each learner's rerun runs in its own thread.
    """
    _local.on_wait = callback


def heavy_depth() -> int:
    """How many :func:`heavy` blocks this thread is inside (0 when none)."""
    return int(getattr(_local, "depth", 0))


@contextmanager
def heavy(label: str) -> Iterator[None]:
    """Run a block under the process-wide semaphore for expensive work.

    Re-entrant per thread (a heavy job that calls another heavy function holds one slot).
    Waits at most :data:`HEAVY_WAIT_S`; past that raises a :class:`LessonError`. ``label``
    names the job in a lesson: English marked with ``N_`` (translated here), or text
    already translated.
    """
    depth = heavy_depth()
    if depth:
        _local.depth = depth + 1
        try:
            yield
        finally:
            _local.depth = depth
        return
    if not _heavy.acquire(blocking=False):
        callback: Callable[[str], None] | None = getattr(_local, "on_wait", None)
        if callback is not None:
            callback(label)
        started = time.monotonic()
        if not _heavy.acquire(timeout=HEAVY_WAIT_S):
            raise LessonError(
                _(
                    "The server is busy: {job} waited {s:.0f} s for a free worker while other "
                    "learners' heavy jobs ran."
                ).format(job=_(label), s=time.monotonic() - started),
                fix=_("Try again in a minute, or pick a smaller setting (it may not need one)."),
            )
    _local.depth = 1
    try:
        yield
    finally:
        _local.depth = 0
        _heavy.release()


# ------------------------------------------------------------------ the data-flow graph

#: Nodes a traced forward may make before the page declines to draw it (efficientnet_b7:
#: 866; the big timm models a few thousand).
GRAPH_MAX_NODES = 20_000
#: Seconds Graphviz's ``dot`` may take to lay out an export (SVG, PNG).
GRAPH_RENDER_TIMEOUT_S = 30.0


# ------------------------------------------------ the Augmentation lab's annotations


#: Largest annotation file (COCO JSON, VOC XML, YOLO txt) or mask PNG read: a COCO file
#: with 1,000 boxes, polygons and keypoints is well under 1 MB.
ANNOTATION_MAX_BYTES = 5 * 2**20
#: Most boxes one photo's annotations may hold (COCO's busiest image has under 100).
ANNOTATION_MAX_BOXES = 1000
#: Most keypoints one photo's annotations may hold (17 per person in COCO).
ANNOTATION_MAX_KEYPOINTS = 1000
#: Most categories a file (or a YOLO ``names`` list) may name (LVIS has 1,203).
ANNOTATION_MAX_CATEGORIES = 2000
#: Largest category id (label) accepted.
ANNOTATION_MAX_LABEL = 1_000_000
#: Longest category or keypoint name, in characters.
ANNOTATION_MAX_NAME_CHARS = 100
#: Largest absolute coordinate, in pixels (any photo's side is far smaller): keeps every
#: number finite once it is a float32 tensor.
ANNOTATION_MAX_COORD = 1_000_000.0
#: Most polygon vertices one photo's segmentation may have in all: rasterizing costs
#: about vertices × canvas height.
ANNOTATION_MAX_POLYGON_POINTS = 20_000
#: Most ``<`` characters (tags) a VOC file may have, counted before parsing: 1,000
#: objects with every VOC field take about 30,000; 100,000 nested elements parse in ~0.2 s.
ANNOTATION_MAX_XML_TAGS = 100_000
#: Most instances a mask may mark: it is an 8-bit PNG whose value i + 1 is box i.
ANNOTATION_MAX_MASK_INSTANCES = 255
#: what reading one uploaded annotation file or mask may add in its sandboxed child, MB
SANDBOX_ANNOTATION_MEMORY_MB = 512
#: its CPU seconds (the worst polygon rasterizing measured 0.6 s)
SANDBOX_ANNOTATION_CPU_S = 10
