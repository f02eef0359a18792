import pytest
import torch

from faig.errors import FaigError
from faig.models.registry import ARCH_REGISTRY, ArchConfig, build_model, infer_config, preset_arch, preset_weights


def filter_count(model) -> int:
    return sum(w.shape[0] * w.shape[1] for k, w in model.state_dict().items() if w.dim() == 4)


def paper(arch: str, scale: int) -> ArchConfig:
    return preset_arch("paper", arch, scale)


def test_paper_filter_counts_at_x2():
    assert filter_count(build_model(paper("srresnet", 2))) == 151_936
    assert filter_count(build_model(paper("srcnn_style", 2))) == 156_224


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_filter_counts_follow_the_layer_formula(scale):
    f = 64
    ups = [f * f * 4, f * f * 4] if scale == 4 else [f * f * scale * scale]
    assert filter_count(build_model(paper("srresnet", scale))) == 3 * f + 32 * f * f + sum(ups) + f * f + 3 * f
    g = 128
    ups = [g * g * 4, g * g * 4] if scale == 4 else [g * g * scale * scale]
    assert filter_count(build_model(paper("srcnn_style", scale))) == 3 * 64 + 64 * g + 4 * g * g + sum(ups) + g * g + 3 * g


def test_srresnet_keys_are_basicsr_msrresnet():
    keys = list(build_model(paper("srresnet", 4)).state_dict())
    assert keys[:4] == ["conv_first.weight", "conv_first.bias", "body.0.conv1.weight", "body.0.conv1.bias"]
    assert "body.15.conv2.weight" in keys
    assert keys[-8:] == ["upconv1.weight", "upconv1.bias", "upconv2.weight", "upconv2.bias",
                         "conv_hr.weight", "conv_hr.bias", "conv_last.weight", "conv_last.bias"]
    assert "upconv2.weight" not in build_model(paper("srresnet", 2)).state_dict()


@pytest.mark.parametrize("scale,convs", [(2, [0, 2, 4, 6, 8, 10, 12, 15, 17]), (3, [0, 2, 4, 6, 8, 10, 12, 15, 17]),
                                         (4, [0, 2, 4, 6, 8, 10, 12, 15, 18, 20])])
def test_srcnn_style_feature_indices_match_the_official_checkpoints(scale, convs):
    state = build_model(paper("srcnn_style", scale)).state_dict()
    assert [int(k.split(".")[1]) for k in state if k.endswith("weight")] == convs
    up = state["features.12.weight"]
    assert up.shape[0] == 128 * (9 if scale == 3 else 4)


@pytest.mark.parametrize("arch", ["srresnet", "srcnn_style"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_shape_and_config_inference(arch, scale):
    config = ArchConfig(arch, scale, width=8, depth=2, first_width=4)
    model = build_model(config)
    assert model(torch.rand(2, 3, 7, 9)).shape == (2, 3, 7 * scale, 9 * scale)
    inferred = infer_config(model.state_dict())
    assert (inferred.arch, inferred.scale, inferred.width, inferred.depth) == (arch, scale, 8, 2)
    if arch == "srcnn_style":
        assert inferred.first_width == 4


def test_initialisation():
    resnet = build_model(ArchConfig("srresnet", 2, 32, 2))
    # BasicSR: Kaiming-normal (fan-in, gain sqrt 2) scaled by 0.1, zero bias
    std = resnet.body[0].conv1.weight.std().item()
    assert std == pytest.approx(0.1 * (2 / (32 * 9)) ** 0.5, rel=0.1)
    assert resnet.conv_first.bias.abs().max() == 0
    srcnn = build_model(ArchConfig("srcnn_style", 2, 64, 2, 32))
    conv = srcnn.features[4]
    assert conv.weight.std().item() == pytest.approx((2 / (64 * 9)) ** 0.5, rel=0.1)  # fan-out
    assert conv.bias.abs().max() == 0


def test_srresnet_starts_near_bilinear_upsampling():
    model = build_model(ArchConfig("srresnet", 2, 8, 1))
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(1, 3, 6, 6)
    expected = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(model(x), expected)


def test_bad_arch_and_scale():
    with pytest.raises(FaigError, match="unknown architecture"):
        build_model(ArchConfig("edsr"))
    with pytest.raises(FaigError, match="scale must be"):
        build_model(ArchConfig("srresnet", 5))
    with pytest.raises(FaigError, match="ships no weights"):
        preset_weights("paper", "srresnet", "target")


@pytest.mark.parametrize("fields, message", [
    (dict(width=0), "width must be an integer >= 1, got 0"),
    (dict(width=-1), "width must be an integer >= 1, got -1"),
    (dict(scale="2"), "scale must be an integer >= 1, got '2'"),
    (dict(scale=2.0), "scale must be an integer >= 1, got 2.0"),
    (dict(depth=True), "depth must be an integer >= 0, got True"),
    (dict(depth=-1), "depth must be an integer >= 0, got -1"),
    (dict(first_width=0), "first_width must be an integer >= 1, got 0"),
    (dict(arch=3), "arch must be an architecture name .a string., got 3"),
])
def test_arch_config_refuses_values_no_network_has(fields, message):
    with pytest.raises(FaigError, match=message):
        ArchConfig(**{"arch": "srresnet", **fields})


def test_arch_config_round_trips_through_its_dict_and_allows_no_body():
    config = ArchConfig("srcnn_style", 3, width=16, depth=0, first_width=8)
    assert ArchConfig.from_dict(config.to_dict()) == config
    assert ArchConfig.from_dict({"arch": "swinir"}) == ArchConfig("swinir")


@pytest.mark.parametrize("data, message", [
    ([1, 2], r"an architecture must be an object with an arch and any of scale, width, depth, first_width, "
             r"got \[1, 2\]"),
    ({"scale": 2}, r"must be an object with an arch .*, got \{'scale': 2\}"),
    ({"arch": "srresnet", "foo": 1},
     "unknown architecture field 'foo'; allowed: arch, scale, width, depth, first_width"),
    ({"arch": "nope"}, "unknown architecture 'nope'; choose from rrdbnet, srcnn_style, srresnet, swinir"),
    ({"arch": "srresnet", "width": -1}, "width must be an integer >= 1, got -1"),
])
def test_arch_config_from_dict_refuses_malformed_data(data, message):
    with pytest.raises(FaigError, match=message):
        ArchConfig.from_dict(data)


def test_bicubic_reference_keeps_constant_images_and_has_no_weights():
    from faig.devices import model_device
    from faig.models.interpolation import Bicubic

    flat = torch.full((1, 3, 5, 7), 0.25)
    model = Bicubic(3)
    assert torch.allclose(model(flat), torch.full((1, 3, 15, 21), 0.25))
    assert list(model.parameters()) == [] and model_device(model) == torch.device("cpu")


def test_a_registered_network_is_built_and_recognised_by_name(monkeypatch):
    """Adding a network is one decorated class: build_model and infer_config find it by name."""
    monkeypatch.setattr(ARCH_REGISTRY, "_classes", dict(ARCH_REGISTRY._classes))

    @ARCH_REGISTRY.register()
    class OneConv(torch.nn.Module):
        arch = "one_conv"
        scales = (1,)

        def __init__(self, width: int) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, width, 3, 1, 1)

        @classmethod
        def from_config(cls, config):
            return cls(config.width)

        @staticmethod
        def config_of(state_dict):
            return ArchConfig("one_conv", 1, width=state_dict["conv.weight"].shape[0]) if "conv.weight" in state_dict \
                else None

    model = build_model(ArchConfig("one_conv", 1, width=5))
    assert isinstance(model, OneConv) and infer_config(model.state_dict()).width == 5
    with pytest.raises(FaigError, match="scale must be one of 1 for one_conv"):
        build_model(ArchConfig("one_conv", 2))
    with pytest.raises(ValueError, match="registered twice"):
        ARCH_REGISTRY.register()(OneConv)


def test_presets_name_their_networks_and_widths():
    assert preset_arch("embedded", "srresnet") == ArchConfig("srresnet", 2, width=32, depth=8)
    assert preset_arch("paper", "srcnn_style", 3).scale == 3
    with pytest.raises(FaigError, match="unknown preset"):
        preset_arch("huge", "srresnet")
