"""A DAN-style two-branch blind-SR network (Luo et al., NeurIPS 2020, "Unfolding the Alternating
Optimization for Blind Super Resolution"), scaled down for Sec. 3's comparison (Table 1, Fig. 1).

DAN's defining structure is kept: an Estimator and a Restorer that alternate for a fixed number of
iterations (4, as DAN). The Restorer super-resolves the LR image conditioned on the current
degradation code; the Estimator predicts the code from the LR image and the current SR estimate.
Both are stacks of conditional residual blocks (CRB: the basic input concatenated with the
conditional one, two convolutions, channel attention, a skip); in the Restorer the basic input is
the LR features and the condition the code stretched to a map, in the Estimator the basic input is
the LR features and the condition the SR image's (brought to LR size by a strided convolution). The
code starts at zero (DAN: the code of a Dirac kernel). Both branches are trained together, by one
optimiser, with an L1 loss on the last SR image plus an L1 loss on the last code; as in DAN's
released code, the code entering the Restorer and the SR image entering the Estimator are detached,
so each branch learns from its own loss.

What was scaled, and changed:
    * sizes: 16 restorer channels and 4 CRBs, 8 estimator channels and 2 CRBs by default (DAN:
      64 channels and 40 CRBs, an estimator of 32 channels and 5 CRBs; the channel attention's
      bottleneck keeps DAN's 4 channels);
    * the code: DAN regresses the PCA code (10-d) of a 21x21 blur kernel. Sec. 3's settings use
      isotropic Gaussian kernels only, whose PCA code is a 1-d curve parametrised by the blur sigma,
      so the code here is that sigma plus the noise sigma, each divided by the widest value of the
      settings (:func:`degradation_code`). Code 0 is DAN's initial Dirac kernel (and no noise);
    * the tail: faig's SRResNet upsampling tail (``faig.models.tail``), so that Table 1 compares the
      degradation branch and nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from faig.data.degradations import Degradation
from faig.errors import FaigError
from faig.models import srresnet
from faig.models import tail

# Code normalisers: the widest blur sigma (DAN's and DASR's x4 range ends at 4.0) and noise sigma
# (25/255 in DASR's blur+noise setting, rounded to 0.1 on the [0, 1] scale) of Sec. 3's settings.
BLUR_SIGMA_MAX = 4.0
NOISE_SIGMA_MAX = 0.1
CODE_DIM = 2


def degradation_code(degradations: list[Degradation]) -> torch.Tensor:
    """DAN's regression target: (blur sigma / 4, noise sigma / 0.1) per degradation, 0 when absent.

    Args:
        degradations: one Eq. 1 degradation per sample.

    Returns:
        An N x 2 float32 tensor.

    Example:
        >>> degradation_code([Degradation(2, 2.0, 0.05), Degradation(2, None, None)])
        tensor([[0.5000, 0.5000],
                [0.0000, 0.0000]])
    """
    return torch.tensor([[(d.blur_sigma or 0.0) / BLUR_SIGMA_MAX, (d.noise_sigma or 0.0) / NOISE_SIGMA_MAX]
                         for d in degradations], dtype=torch.float32)


@dataclass(frozen=True)
class DANConfig:
    """The sizes of a DAN-style network (DAN's own in brackets).

    ``width``/``blocks``: restorer channels and CRBs (64, 40); ``estimator_width``/``estimator_blocks``:
    the estimator's (32, 5); ``iterations``: alternations (4); ``reduction``: the channel-attention
    bottleneck ratio (16, so 4 channels at 64; 4 keeps 4 at 16).
    """

    scale: int = 2
    width: int = 16
    blocks: int = 4
    estimator_width: int = 8
    estimator_blocks: int = 2
    iterations: int = 4
    reduction: int = 4

    def to_dict(self) -> dict:
        return asdict(self)


class ConditionalResidualBlock(nn.Module):
    """DAN's CRB: basic + attention(conv(lrelu(conv([basic, condition])))), the first convolution
    keeping all width + cond channels, the attention a channel attention (pool, bottleneck, sigmoid).

    Shapes: basic N x width x h x w, condition N x cond x h x w; returns N x width x h x w.
    """

    def __init__(self, width: int, cond: int, reduction: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width + cond, width + cond, 3, 1, 1)
        self.conv2 = nn.Conv2d(width + cond, width, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)
        hidden = max(width // reduction, 1)
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(width, hidden, 1),
                                       nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(hidden, width, 1), nn.Sigmoid())
        srresnet.scaled_kaiming_([self.conv1, self.conv2], 0.1)

    def forward(self, basic: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.lrelu(self.conv1(torch.cat([basic, condition], 1))))
        return basic + out * self.attention(out)


class Restorer(nn.Module):
    """SR image from the LR image and a degradation code (stretched to a map, fed to every CRB)."""

    def __init__(self, config: DANConfig) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(3, config.width, 3, 1, 1)
        self.blocks = nn.ModuleList(ConditionalResidualBlock(config.width, CODE_DIM, config.reduction)
                                    for _ in range(config.blocks))
        self.conv_body = nn.Conv2d(config.width, config.width, 3, 1, 1)
        self.tail = tail.UpsampleTail(config.width, config.scale)
        srresnet.scaled_kaiming_([self.conv_first, self.conv_body], 0.1)

    def forward(self, lr: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        features = self.conv_first(lr)
        condition = code[:, :, None, None].expand(-1, -1, *lr.shape[-2:])
        out = features
        for block in self.blocks:
            out = block(out, condition)
        return self.tail(self.conv_body(out), lr)


class Estimator(nn.Module):
    """Degradation code (N x 2) from the LR image and the current SR estimate: the LR features (a
    1x1 convolution) are the CRBs' basic input, the SR image's (a 9x9 convolution with stride s,
    back at LR size) their condition; a convolution and global average pooling give the code."""

    def __init__(self, config: DANConfig) -> None:
        super().__init__()
        width = config.estimator_width
        self.conv_lr = nn.Conv2d(3, width, 1)
        self.conv_sr = nn.Conv2d(3, width, 9, config.scale, 4)
        self.blocks = nn.ModuleList(ConditionalResidualBlock(width, width, config.reduction)
                                    for _ in range(config.estimator_blocks))
        self.conv_code = nn.Conv2d(width, CODE_DIM, 3, 1, 1)

    def forward(self, lr: torch.Tensor, sr: torch.Tensor) -> torch.Tensor:
        condition = self.conv_sr(sr)
        out = self.conv_lr(lr)
        for block in self.blocks:
            out = block(out, condition)
        return self.conv_code(out).mean(dim=(2, 3))


class DAN(nn.Module):
    """The alternating Restorer/Estimator network: ``forward`` returns the SR image (N x 3 x s·h x s·w),
    ``forward_with_code`` also the last estimated code (N x 2) for the training loss.

    Example:
        >>> net = DAN(DANConfig(scale=2, width=8, blocks=1, estimator_width=4, estimator_blocks=1, iterations=2))
        >>> sr, code = net.forward_with_code(torch.rand(2, 3, 6, 5))
        >>> tuple(sr.shape), tuple(code.shape)
        ((2, 3, 12, 10), (2, 2))
    """

    def __init__(self, config: DANConfig) -> None:
        super().__init__()
        if config.scale not in (2, 3, 4):
            raise FaigError(f"scale must be 2, 3 or 4, not {config.scale}")
        if config.iterations < 1:
            raise FaigError(f"DAN needs at least one iteration, not {config.iterations}")
        self.config = config
        self.restorer = Restorer(config)
        self.estimator = Estimator(config)

    def _alternate(self, lr: torch.Tensor, final_estimate: bool) -> tuple[torch.Tensor, torch.Tensor]:
        code = lr.new_zeros(lr.shape[0], CODE_DIM)
        for iteration in range(self.config.iterations):
            sr = self.restorer(lr, code.detach())
            if final_estimate or iteration < self.config.iterations - 1:
                code = self.estimator(lr, sr.detach())
        return sr, code

    def forward_with_code(self, lr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last SR image and the code the Estimator reads off it (what DAN's losses compare)."""
        return self._alternate(lr, final_estimate=True)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        """The SR image; the last Estimator pass, which no output uses, is skipped."""
        return self._alternate(lr, final_estimate=False)[0]
