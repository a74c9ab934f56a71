"""Every private name in :mod:`ptexplore.compat` is still what it was: these fail, naming
the name, the day a new Python changes one."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from ptexplore import compat
from ptexplore.data import workers


def test_the_forkserver_and_resource_tracker_names_are_there() -> None:
    workers.ensure_forkserver()
    pid = compat.forkserver_pid()
    assert pid is not None and os.path.exists(f"/proc/{pid}")
    tracker = compat.resource_tracker_pid()
    assert tracker is not None and os.path.exists(f"/proc/{tracker}")
    fds = compat.forkserver_fds()
    assert len(fds) == 2
    for fd in fds:
        assert os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")  # alive pipe, tracker's


def test_a_forked_child_reuses_its_parents_forkserver() -> None:
    """What the sandbox's children do: adopt the forkserver and start a process from it."""
    workers.ensure_forkserver()
    server = compat.forkserver_pid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no waitpid on the server (not its child), no second server
        code = 1
        try:
            compat.adopt_forkserver()
            p = workers.worker_context().Process(target=os.getpid)
            p.start()
            p.join(30)
            same = compat.forkserver_pid() == server
            code = 0 if p.exitcode == 0 and same else 2
        finally:
            os.write(w, bytes([code]))
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.waitpid(pid, 0)
    assert got == b"\x00"


def test_a_changed_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(multiprocessing.forkserver._forkserver, "_forkserver_pid")
    with pytest.raises(compat.CompatError, match="_forkserver_pid"):
        compat.forkserver_pid()


def test_torchs_weights_only_unpickler_names_are_there() -> None:
    import io
    import pickle

    allowed = compat.weights_only_allowed_globals()
    assert "torch._utils._rebuild_tensor_v2" in allowed and "builtins.eval" not in allowed
    with pytest.raises(pickle.UnpicklingError, match="Unsupported operand 105"):
        compat.weights_only_unpickler(io.BytesIO(b"i")).load()  # INST: not in its set
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL os\.system"):
        compat.weights_only_unpickler(io.BytesIO(b"cos\nsystem\n")).load()


def test_pytree_flattens_and_restores_a_sample() -> None:
    import torch

    sample = (torch.zeros(2), {"label": 3, "boxes": [torch.ones(1)]})
    leaves, spec = compat.tree_flatten(sample)
    assert len(leaves) == 3
    back = compat.tree_unflatten(leaves, spec)
    assert torch.equal(back[0], sample[0]) and back[1]["label"] == 3


def test_a_dataloader_iterator_is_shut_down_by_name() -> None:
    from torch.utils.data import DataLoader

    loader = DataLoader(
        list(range(4)), num_workers=1, multiprocessing_context=workers.worker_context()
    )
    it = iter(loader)
    next(it)
    pids = [w.pid for w in it._workers]  # (the test reads torch's own field to check)
    assert compat.shut_down_dataloader_iterators([it, loader, 3]) == 1
    assert not any(workers.alive(p) for p in pids)


# -------------------------------------------------------------------- torchvision v2


def test_the_v2_transform_internals_the_previews_use_are_there() -> None:
    import torch
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    assert issubclass(v2.RandomHorizontalFlip, compat.v2_random_apply_transform())
    img = tv_tensors.Image(torch.zeros(3, 5, 7, dtype=torch.uint8))
    assert compat.v2_query_size([img]) == (5, 7)
    aug = compat.V2Private(v2.AugMix())
    where, image = aug.extract_image((img,))
    assert image is img and aug.insert_image(where, image) is img  # one input: unwrapped
    full, partial = aug.augmentation_space(True), aug.augmentation_space(False)
    assert set(partial) < set(full) and "Brightness" in full and "Brightness" not in partial
    op, (magnitudes, signed) = aug.random_item(partial)
    assert op in partial and isinstance(signed, bool) and callable(magnitudes)
    assert aug.parameter_max == 10
    weights = aug.sample_dirichlet(torch.ones(1, 3))
    assert weights.shape == (1, 3) and abs(float(weights.sum()) - 1) < 1e-5
    assert aug.fill is not None
    shifted = aug.apply_op(
        img, "Identity", 0.0, interpolation=v2.InterpolationMode.NEAREST, fill=aug.fill
    )
    assert torch.equal(shifted, img)
    assert hasattr(v2.AugMix(), compat.V2_APPLY_OP) and hasattr(
        v2.AugMix(), compat.V2_SAMPLE_DIRICHLET
    )
    elastic = compat.V2Private(v2.ElasticTransform())
    assert elastic.needs_transform_list([img, 3]) == [True, False]
    from torchvision.transforms.v2 import functional as F

    blurred = elastic.call_kernel(F.gaussian_blur, torch.ones(1, 1, 5, 5), [3, 3], [1.0, 1.0])
    assert blurred.shape == (1, 1, 5, 5)


# ------------------------------------------------------------------------ torch.nn


def test_a_modules_own_registration_dicts_and_base_classes() -> None:
    import torch

    from ptexplore.models.examples import SharedLayerNet

    lin = torch.nn.Linear(2, 3, bias=False)
    assert list(compat.own_parameters(lin)) == ["weight", "bias"]
    assert compat.own_parameters(lin)["bias"] is None  # registered as None
    assert list(compat.own_buffers(torch.nn.BatchNorm1d(2))) == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    net = SharedLayerNet()
    assert list(compat.own_modules(net)) == ["embed", "block", "tied", "head"]
    assert len(list(net.children())) == 3  # the tied one once
    assert issubclass(torch.nn.BatchNorm2d, compat.batchnorm_base())
    assert issubclass(torch.nn.Dropout, compat.dropout_base())
    assert not issubclass(torch.nn.LayerNorm, compat.batchnorm_base())


def test_torchs_checkpoint_reader_and_storage_names(tmp_path: object) -> None:
    import io

    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    reader = compat.pytorch_file_reader(io.BytesIO(buf.getvalue()))
    assert any(name.endswith("data.pkl") for name in reader.get_all_records())
    names = compat.storage_type_names()
    assert names[torch.float32] == "FloatStorage" and names[torch.int64] == "LongStorage"


def test_the_warnings_internals() -> None:
    import warnings

    assert compat.original_showwarning() is warnings._showwarning_orig  # type: ignore[attr-defined]
    compat.warning_filters_changed()  # runs


def test_a_forkserver_process_class_picks_its_main() -> None:
    cls = compat.forkserver_process(lambda: None)
    assert issubclass(cls, multiprocessing.context.ForkServerProcess)
    assert cls._Popen is not multiprocessing.context.ForkServerProcess._Popen
