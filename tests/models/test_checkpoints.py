import io
import os
import pickle
import stat
from collections import OrderedDict

import pytest
import torch

from faig.errors import FaigError
from faig.models.checkpoints import (check_same_structure, load_model, load_pair, load_state_dict, read_metadata,
                                     save_weights)
from faig.models.registry import ArchConfig, build_model

SMALL = ArchConfig("srresnet", 2, width=8, depth=2)


class NotATensor:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_safetensors_round_trip_with_config(tmp_path):
    model = build_model(SMALL)
    save_weights(tmp_path / "m.safetensors", model, SMALL, {"note": {"steps": 3}})
    loaded, config = load_model(tmp_path / "m.safetensors")
    assert config == SMALL
    assert read_metadata(tmp_path / "m.safetensors")["note"] == {"steps": 3}
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k


@pytest.mark.parametrize("key", ["params_ema", "params"])
def test_basicsr_pth_loads_without_key_mapping(tmp_path, key):
    model = build_model(ArchConfig("srcnn_style", 3, 16, 2, 8))
    torch.save({key: model.state_dict()}, tmp_path / "net_g.pth")
    loaded, config = load_model(tmp_path / "net_g.pth")
    assert (config.arch, config.scale, config.width, config.depth, config.first_width) == ("srcnn_style", 3, 16, 2, 8)
    x = torch.rand(1, 3, 5, 5)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def test_params_ema_preferred_over_params(tmp_path):
    ema, raw = build_model(SMALL).state_dict(), build_model(SMALL).state_dict()
    torch.save({"params": raw, "params_ema": ema}, tmp_path / "both.pth")
    assert torch.equal(load_state_dict(tmp_path / "both.pth")["conv_first.weight"], ema["conv_first.weight"])


class Settings(OrderedDict):
    """A Python class of the test module: weights_only may not build it."""


class Plain:
    def __init__(self) -> None:
        self.lr = 1e-3


OBJECTS_REFUSED = "holds pickled Python objects; faig loads tensors only .weights_only. and will not run them"


@pytest.mark.parametrize("extra", [NotATensor(), Settings(lr=1e-3), Plain()])
def test_pickled_objects_are_refused_as_such(tmp_path, capsys, extra):
    torch.save({"params": build_model(SMALL).state_dict(), "extra": extra}, tmp_path / "objects.pth")
    with pytest.raises(FaigError, match=OBJECTS_REFUSED):
        load_state_dict(tmp_path / "objects.pth")
    assert "must never run" not in capsys.readouterr().out


def test_a_bare_pickle_of_objects_is_refused_as_such_without_warnings(tmp_path, recwarn):
    (tmp_path / "bare.pth").write_bytes(pickle.dumps({"params": Plain()}, protocol=5))
    with pytest.raises(FaigError, match=OBJECTS_REFUSED):
        load_state_dict(tmp_path / "bare.pth")
    assert not recwarn.list


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(FaigError, match="checkpoint not found"):
        load_state_dict(tmp_path / "nope.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(FaigError, match="cannot read checkpoint .*bad.safetensors: not a safetensors file"):
        load_state_dict(tmp_path / "bad.safetensors")
    good = io.BytesIO()
    torch.save({"params": build_model(SMALL).state_dict()}, good)
    for name, data in (("garbage.pth", b"garbage"), ("truncated.pth", good.getvalue()[:200])):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FaigError, match=f"cannot read checkpoint .*{name}: not a PyTorch checkpoint, or a damaged"):
            load_state_dict(tmp_path / name)


def test_an_unsupported_network_names_what_it_found_and_what_is_supported(tmp_path):
    path = tmp_path / "edsr.pth"
    torch.save({"params": {f"head.{i}.weight": torch.zeros(4, 3, 3, 3) for i in range(5)}}, path)
    with pytest.raises(FaigError, match=r"unrecognised checkpoint: its keys \(head.0.weight, head.1.weight, "
                                        r"head.2.weight and 2 more\) match no registered architecture "
                                        r"\(rrdbnet, srcnn_style, srresnet, swinir\)"):
        load_model(path)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_weights_files_get_the_umasks_permissions(tmp_path, umask):
    previous = os.umask(umask)
    try:
        save_weights(tmp_path / "m.safetensors", build_model(SMALL), SMALL)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o666 & ~umask
    assert load_model(tmp_path / "m.safetensors")[1] == SMALL


def test_scale_mismatch_is_refused(tmp_path):
    save_weights(tmp_path / "x2.safetensors", build_model(SMALL), SMALL)
    with pytest.raises(FaigError, match="x2 network; x4 was asked for"):
        load_model(tmp_path / "x2.safetensors", expected_scale=4)


def test_mismatched_pair_names_the_first_differing_tensor(tmp_path):
    save_weights(tmp_path / "a.safetensors", build_model(SMALL), SMALL)
    wider = ArchConfig("srresnet", 2, width=8, depth=3)
    save_weights(tmp_path / "b.safetensors", build_model(wider), wider)
    with pytest.raises(FaigError, match="target has no tensor 'body.2.conv1.weight'|baseline has no tensor 'body.2"):
        load_pair(tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    a = build_model(SMALL).state_dict()
    b = dict(a, **{"body.1.conv2.weight": torch.zeros(8, 8, 1, 1)})
    with pytest.raises(FaigError, match=r"differ at 'body.1.conv2.weight': \(8, 8, 3, 3\) vs \(8, 8, 1, 1\)"):
        check_same_structure(a, b)
