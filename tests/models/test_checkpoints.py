import io
import json
import os
import pickle
import stat
from collections import OrderedDict

import pytest
import torch
from safetensors.torch import save_file

from faig.errors import FaigError
from faig.files import write_tensors
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
    with pytest.raises(FaigError, match=r"edsr\.pth: unrecognised checkpoint: its keys \(head.0.weight, head.1.weight, "
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


def test_weights_that_do_not_fit_the_architecture_say_which_tensor(tmp_path):
    """torch's first line only heads its list of reasons; the message gives the first reason."""
    state = build_model(SMALL).state_dict()
    del state["conv_first.bias"]
    write_tensors(tmp_path / "short.safetensors", state, {"faig_arch": json.dumps(SMALL.to_dict())})
    with pytest.raises(FaigError) as error:
        load_model(tmp_path / "short.safetensors")
    assert str(error.value).endswith('does not fit srresnet: Missing key(s) in state_dict: "conv_first.bias".')


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(tmp_path, bad):
    model = build_model(SMALL)
    with torch.no_grad():
        model.conv_first.bias[1] = bad
    save_weights(tmp_path / "diverged.safetensors", model, SMALL)
    with pytest.raises(FaigError, match=r"holds weights that are not finite \(nan or inf\) in 'conv_first.bias'"):
        load_model(tmp_path / "diverged.safetensors")


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


def test_another_tools_safetensors_loads_like_a_state_dict(tmp_path):
    model = build_model(SMALL)
    save_file(model.state_dict(), tmp_path / "torch.safetensors", metadata={"format": "pt"})
    assert read_metadata(tmp_path / "torch.safetensors") == {"format": "pt"}
    loaded, config = load_model(tmp_path / "torch.safetensors")
    assert config == SMALL
    x = torch.rand(1, 3, 5, 5)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def test_a_foreign_string_beside_faig_arch_is_kept(tmp_path):
    wide = ArchConfig("srresnet", 2, width=8, depth=2, first_width=16)  # first_width: only the header says so
    header = {"faig_arch": json.dumps(wide.to_dict()), "format": "pt", "metrics": json.dumps({"steps": 3})}
    write_tensors(tmp_path / "m.safetensors", build_model(wide).state_dict(), header)
    assert read_metadata(tmp_path / "m.safetensors") == {"faig_arch": wide.to_dict(), "format": "pt",
                                                         "metrics": {"steps": 3}}
    assert load_model(tmp_path / "m.safetensors")[1] == wide


@pytest.mark.parametrize("faig_arch, message", [
    ("{not json", r"m.safetensors: its faig_arch header is not JSON \('\{not json'\); "
                  "faig stores the architecture there as a JSON object"),
    ('{"arch": "srresnet", "scale": 2, "width": 8, "depth": 2, "foo": 1}',
     "m.safetensors: bad faig_arch header: unknown architecture field 'foo'; allowed: arch, scale, width, depth, "
     "first_width"),
    ("[1, 2]", r"m.safetensors: bad faig_arch header: an architecture must be an object with an arch and any of "
               r"scale, width, depth, first_width, got \[1, 2\]"),
    ('{"arch": "srresnet", "width": -1, "depth": 2}',
     "m.safetensors: bad faig_arch header: width must be an integer >= 1, got -1"),
    ('{"arch": "srresnet", "scale": "2", "width": 8, "depth": 2}',
     "m.safetensors: bad faig_arch header: scale must be an integer >= 1, got '2'"),
    ('{"arch": "nope"}', "m.safetensors: bad faig_arch header: unknown architecture 'nope'; choose from rrdbnet, "
                         "srcnn_style, srresnet, swinir"),
])
def test_a_malformed_faig_arch_header_names_the_file_and_the_field(tmp_path, faig_arch, message):
    write_tensors(tmp_path / "m.safetensors", build_model(SMALL).state_dict(), {"faig_arch": faig_arch})
    with pytest.raises(FaigError, match=message):
        load_model(tmp_path / "m.safetensors")


def test_a_pair_of_identical_weights_is_refused(tmp_path):
    model = build_model(SMALL)
    save_weights(tmp_path / "a.safetensors", model, SMALL)
    save_file(model.state_dict(), tmp_path / "copy.safetensors")
    for target in ("a.safetensors", "copy.safetensors"):
        with pytest.raises(FaigError, match="^baseline and target hold the same weights: there is no change to "
                                            "attribute$"):
            load_pair(tmp_path / "a.safetensors", tmp_path / target)
    with torch.no_grad():
        model.conv_last.bias[0] += 1e-3  # one value differs: a pair
    save_weights(tmp_path / "b.safetensors", model, SMALL)
    baseline, target, config = load_pair(tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert config == SMALL
    change = (target.conv_last.bias - baseline.conv_last.bias).detach()
    assert change[0].item() == pytest.approx(1e-3) and torch.equal(change[1:], torch.zeros(2))
