import pytest
import torch

from faig.data.degradations import Degradation, degrade
from faig.errors import FaigError
from faig.models.dan import DAN, DANConfig, degradation_code
from faig.models.dasr import DASR, DAConv, DASRConfig

TINY_DAN = DANConfig(width=8, blocks=2, estimator_width=4, estimator_blocks=1, iterations=4, reduction=4)
TINY_DASR = DASRConfig(width=8, groups=2, blocks=1, encoder_width=4, reduction=4, queue_size=16)


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def conv(cin: int, cout: int, k: int = 3) -> int:
    return cin * cout * k * k + cout


def tail(w: int, scale: int) -> int:
    ups = 2 * conv(w, 4 * w) if scale == 4 else conv(w, w * scale * scale)
    return ups + conv(w, w) + conv(w, 3)


def crb(w: int, cond: int, reduction: int) -> int:
    h = max(w // reduction, 1)
    return conv(w + cond, w + cond) + conv(w + cond, w) + conv(w, h, 1) + conv(h, w, 1)


def dan_params(c: DANConfig) -> int:
    w, e = c.width, c.estimator_width
    restorer = conv(3, w) + c.blocks * crb(w, 2, c.reduction) + conv(w, w) + tail(w, c.scale)
    estimator = conv(3, e, 1) + conv(3, e, 9) + c.estimator_blocks * crb(e, e, c.reduction) + conv(e, 2)
    return restorer + estimator


def dasr_params(c: DASRConfig) -> int:
    w, d, k = c.width, 4 * c.encoder_width, c.kernel_size
    widths = [3, c.encoder_width, c.encoder_width, 2 * c.encoder_width, 2 * c.encoder_width, d, d]
    encoder = sum(conv(i, o) + 2 * o for i, o in zip(widths[:-1], widths[1:])) + 2 * (d * d + d)  # conv + BN
    h = max(w // c.reduction, 1)
    da_conv = (d * d + d * w * k * k) + conv(w, w, 1) + (d * h + h * w)  # the MLPs have no biases
    da_block = 2 * da_conv + 2 * conv(w, w)
    restorer = conv(3, w) + c.groups * (c.blocks * da_block + conv(w, w)) + conv(w, w) + tail(w, c.scale)
    return encoder + restorer


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_dan_shapes_and_parameter_count(scale):
    config = DANConfig(**{**TINY_DAN.to_dict(), "scale": scale})
    net = DAN(config)
    sr, code = net.forward_with_code(torch.rand(2, 3, 7, 9))
    assert sr.shape == (2, 3, 7 * scale, 9 * scale) and code.shape == (2, 2)
    assert net(torch.rand(1, 3, 7, 9)).shape == (1, 3, 7 * scale, 9 * scale)
    assert trainable(net) == dan_params(config)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_dasr_shapes_and_parameter_count(scale):
    config = DASRConfig(**{**TINY_DASR.to_dict(), "scale": scale})
    net = DASR(config)
    assert net(torch.rand(2, 3, 7, 9)).shape == (2, 3, 7 * scale, 9 * scale)
    representation, projection = net.encode(torch.rand(2, 3, 7, 9))
    assert representation.shape == projection.shape == (2, 16)
    assert trainable(net) == dasr_params(config)


def test_default_sizes():
    assert trainable(DAN(DANConfig())) == dan_params(DANConfig()) == 46_737
    assert trainable(DASR(DASRConfig())) == dasr_params(DASRConfig()) == 262_667


def test_bad_scale_and_iterations_are_refused():
    with pytest.raises(FaigError, match="scale"):
        DAN(DANConfig(scale=5))
    with pytest.raises(FaigError, match="iteration"):
        DAN(DANConfig(iterations=0))
    with pytest.raises(FaigError, match="scale"):
        DASR(DASRConfig(scale=1))


def test_dan_iteration_count_changes_the_output():
    torch.manual_seed(0)
    four = DAN(TINY_DAN)
    one = DAN(DANConfig(**{**TINY_DAN.to_dict(), "iterations": 1}))
    one.load_state_dict(four.state_dict())
    with torch.no_grad():
        for parameter in four.parameters():  # away from the near-identity initialisation
            parameter.add_(0.3 * torch.randn_like(parameter))
        one.load_state_dict(four.state_dict())
        lr = torch.rand(1, 3, 10, 10)
        difference = (four(lr) - one(lr)).abs().max().item()
    assert difference > 1e-3


def test_dan_forward_skips_only_the_unused_last_estimate():
    net = DAN(TINY_DAN)
    lr = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(net(lr), net.forward_with_code(lr)[0])


def test_degradation_code_normalises_sigmas():
    code = degradation_code([Degradation(2, 4.0, 0.1), Degradation(2, 1.0, None), Degradation(2, None, 0.02)])
    assert torch.allclose(code, torch.tensor([[1.0, 1.0], [0.25, 0.0], [0.0, 0.2]]))


def test_da_conv_treats_each_sample_with_its_own_representation():
    torch.manual_seed(0)
    layer = DAConv(6, 5, 3, 2)
    x, representation = torch.rand(3, 6, 7, 8), torch.rand(3, 5)
    with torch.no_grad():
        together = layer(x, representation)
        alone = torch.cat([layer(x[i:i + 1], representation[i:i + 1]) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-6)
    assert not torch.allclose(together[0], layer(x[:1], representation[1:2])[0])


def test_key_encoder_is_a_frozen_momentum_copy_and_the_queue_wraps():
    torch.manual_seed(0)
    net = DASR(TINY_DASR)
    assert all(not p.requires_grad for p in net.key_encoder.parameters())
    for key, value in net.key_encoder.state_dict().items():
        assert torch.equal(value, net.encoder.state_dict()[key])
    with torch.no_grad():
        for parameter in net.encoder.parameters():
            parameter.add_(1.0)
    before = [p.clone() for p in net.key_encoder.parameters()]
    patches = torch.rand(10, 3, 8, 8)
    net.contrastive_loss(net.encode(patches)[1], patches)
    moved = [(after - old).abs().max().item() for after, old in zip(net.key_encoder.parameters(), before)]
    assert all(abs(m - (1 - TINY_DASR.momentum)) < 1e-6 for m in moved)
    assert int(net.queue_pointer) == 10
    net.contrastive_loss(net.encode(patches)[1], patches)
    assert int(net.queue_pointer) == 4
    assert torch.allclose(net.queue.norm(dim=1), torch.ones(16))


def toy_patches(degradations: list[Degradation], generator: torch.Generator) -> torch.Tensor:
    """One LR patch per degradation from a fresh random smooth texture (content never repeats)."""
    patches = []
    for degradation in degradations:
        base = torch.rand(1, 3, 8, 8, generator=generator)
        hr = torch.nn.functional.interpolate(base, size=(48, 48), mode="bilinear", align_corners=False)
        patches.append(degrade(hr, degradation, generator))
    return torch.cat(patches)


def test_contrastive_training_makes_same_degradation_pairs_closer():
    """A few MoCo steps on toy images (blurry or noisy, content never repeated) widen the gap between
    a query's InfoNCE loss when its key is another image of the same degradation and when the keys'
    degradations are swapped (measured in eval mode, as inference runs)."""
    torch.manual_seed(0)
    net = DASR(DASRConfig(width=4, groups=1, blocks=1, encoder_width=8, queue_size=32))
    kinds = [Degradation(2, 2.0, None), Degradation(2, None, 0.1)]
    generator = torch.Generator().manual_seed(0)
    queries = toy_patches([kinds[0]] * 4 + [kinds[1]] * 4, generator)
    keys = toy_patches([kinds[0]] * 4 + [kinds[1]] * 4, generator)
    swapped = torch.cat([keys[4:], keys[:4]])

    def info_nce(first: torch.Tensor, second: torch.Tensor) -> float:
        net.eval()
        with torch.no_grad():
            q = torch.nn.functional.normalize(net.encode(first)[1], dim=1)
            k = torch.nn.functional.normalize(net.encode(second)[1], dim=1)
        net.train()
        return torch.nn.functional.cross_entropy(q @ k.t() / 0.07, torch.arange(len(q))).item()

    gap_before = info_nce(queries, swapped) - info_nce(queries, keys)
    optimizer = torch.optim.Adam(net.encoder.parameters(), lr=2e-3)
    for _ in range(40):  # batch normalisation's running statistics need some 30 steps to settle
        lr = toy_patches([kinds[i] for i in torch.randint(2, (8,), generator=generator).tolist()], generator)
        loss = net.contrastive_loss(net.encode(lr[..., :12, :12])[1], lr[..., 12:, 12:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    matched, crossed = info_nce(queries, keys), info_nce(queries, swapped)
    assert matched < crossed - 1.0
    assert crossed - matched > gap_before + 1.0
