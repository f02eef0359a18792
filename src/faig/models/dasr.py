"""A DASR-style two-branch blind-SR network (Wang et al., CVPR 2021, "Unsupervised Degradation
Representation Learning for Blind Super-Resolution"), scaled down for Sec. 3's comparison (Table 1,
Fig. 1).

DASR's defining structure is kept:
    * a degradation encoder (convolutions with batch normalisation, global average pooling: the
      representation; a two-layer MLP on top: the projection) learned with a contrastive loss,
      MoCo-style: two patches of one LR image share a degradation and form the positive pair; the
      key patch goes through a momentum copy of the encoder, and a queue of earlier keys are the
      negatives (InfoNCE, temperature 0.07);
    * a restorer of degradation-aware (DA) blocks: each DA convolution convolves the features with a
      depthwise kernel predicted from the representation, then a 1x1 convolution, and adds the
      features rescaled by channel-wise weights also predicted from it (channel modulation);
      DA blocks form residual groups.

What was scaled, and changed: 32 restorer channels in 2 groups of 2 DA blocks, an encoder of six
convolutions 8-8-16-16-32-32 wide with a 32-d representation, a queue of 256 keys (DASR: 64
channels, 5 groups of 5 blocks, a 64-to-256-wide encoder, a 256-d representation, a queue of 8192);
the representation feeds the DA convolutions directly (DASR first compresses 256 to 64 with a fully
connected layer; as in DASR, the small MLPs that predict kernels and modulation have no biases); the tail is faig's SRResNet upsampling tail (``faig.models.tail``), so that Table
1 compares the degradation branch and nothing else.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from faig.errors import FaigError
from faig.models import srresnet
from faig.models import tail


@dataclass(frozen=True)
class DASRConfig:
    """The sizes of a DASR-style network (DASR's own in brackets).

    ``width``: restorer channels (64); ``groups`` x ``blocks``: DA groups and DA blocks per group
    (5 x 5); ``encoder_width``: the encoder's first width, doubled twice (64, giving 256);
    ``kernel_size``: the predicted depthwise kernel (3); ``reduction``: the channel-modulation
    bottleneck (8); ``queue_size``, ``momentum``, ``temperature``: MoCo's (8192, 0.999, 0.07).
    """

    scale: int = 2
    width: int = 32
    groups: int = 2
    blocks: int = 2
    encoder_width: int = 8
    kernel_size: int = 3
    reduction: int = 8
    queue_size: int = 256
    momentum: float = 0.999
    temperature: float = 0.07

    @property
    def representation_dim(self) -> int:
        return 4 * self.encoder_width

    def to_dict(self) -> dict:
        return asdict(self)


class DegradationEncoder(nn.Module):
    """Six 3x3 convolutions (two with stride 2), each followed by batch normalisation and a leaky
    ReLU, and global average pooling: the representation (N x 4·encoder_width); a two-layer MLP on
    it: the projection the contrastive loss compares.

    The batch normalisation is DASR's and it is needed: without it the pooled features of all
    images share one dominant direction (cosine similarity 0.999 at initialisation) and MoCo
    training blows the features up along it instead of separating degradations.
    """

    def __init__(self, encoder_width: int) -> None:
        super().__init__()
        w = encoder_width
        widths = [3, w, w, 2 * w, 2 * w, 4 * w, 4 * w]
        layers: list[nn.Module] = []
        for index, (inp, out) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Conv2d(inp, out, 3, 2 if index in (2, 4) else 1, 1), nn.BatchNorm2d(out),
                       nn.LeakyReLU(0.1, inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.mlp = nn.Sequential(nn.Linear(4 * w, 4 * w), nn.LeakyReLU(0.1, inplace=True), nn.Linear(4 * w, 4 * w))

    def forward(self, lr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        representation = self.convs(lr).mean(dim=(2, 3))
        return representation, self.mlp(representation)


class DAConv(nn.Module):
    """DASR's degradation-aware convolution: 1x1(lrelu(depthwise(x, kernel(r)))) + x · sigmoid(mlp(r)).

    Shapes: x N x C x h x w, r N x D; returns N x C x h x w.
    """

    def __init__(self, channels: int, representation_dim: int, kernel_size: int, reduction: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.kernel = nn.Sequential(nn.Linear(representation_dim, representation_dim, bias=False),
                                    nn.LeakyReLU(0.1, inplace=True),
                                    nn.Linear(representation_dim, channels * kernel_size * kernel_size, bias=False))
        self.conv = nn.Conv2d(channels, channels, 1)
        hidden = max(channels // reduction, 1)
        self.modulation = nn.Sequential(nn.Linear(representation_dim, hidden, bias=False),
                                        nn.LeakyReLU(0.1, inplace=True), nn.Linear(hidden, channels, bias=False),
                                        nn.Sigmoid())

    def forward(self, x: torch.Tensor, representation: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        kernel = self.kernel(representation).view(n * c, 1, self.kernel_size, self.kernel_size)
        out = F.conv2d(x.reshape(1, n * c, h, w), kernel, padding=self.kernel_size // 2, groups=n * c)
        out = self.conv(F.leaky_relu(out.view(n, c, h, w), 0.1))
        return out + x * self.modulation(representation)[:, :, None, None]


class DABlock(nn.Module):
    """x + conv(lrelu(DA(lrelu(conv(lrelu(DA(x, r))), r))))."""

    def __init__(self, config: DASRConfig) -> None:
        super().__init__()
        args = (config.width, config.representation_dim, config.kernel_size, config.reduction)
        self.da1, self.da2 = DAConv(*args), DAConv(*args)
        self.conv1 = nn.Conv2d(config.width, config.width, 3, 1, 1)
        self.conv2 = nn.Conv2d(config.width, config.width, 3, 1, 1)
        srresnet.scaled_kaiming_([self.conv1, self.conv2], 0.1)

    def forward(self, x: torch.Tensor, representation: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(self.conv1(F.leaky_relu(self.da1(x, representation), 0.1)), 0.1)
        return x + self.conv2(F.leaky_relu(self.da2(out, representation), 0.1))


class DAGroup(nn.Module):
    """x + conv(DA blocks(x, r)): a residual group."""

    def __init__(self, config: DASRConfig) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(DABlock(config) for _ in range(config.blocks))
        self.conv = nn.Conv2d(config.width, config.width, 3, 1, 1)
        srresnet.scaled_kaiming_([self.conv], 0.1)

    def forward(self, x: torch.Tensor, representation: torch.Tensor) -> torch.Tensor:
        out = x
        for block in self.blocks:
            out = block(out, representation)
        return x + self.conv(out)


class DASR(nn.Module):
    """The encoder + DA restorer: ``forward`` encodes the whole LR input and restores it.

    ``key_encoder`` (the momentum copy) and ``queue`` serve training only (:meth:`contrastive_loss`);
    the key encoder is frozen, so the trainable parameters are those inference uses plus the MLP.

    Example:
        >>> net = DASR(DASRConfig(scale=3, width=8, groups=1, blocks=1, encoder_width=4, queue_size=8))
        >>> net(torch.rand(2, 3, 8, 7)).shape
        torch.Size([2, 3, 24, 21])
    """

    def __init__(self, config: DASRConfig) -> None:
        super().__init__()
        if config.scale not in (2, 3, 4):
            raise FaigError(f"scale must be 2, 3 or 4, not {config.scale}")
        self.config = config
        self.encoder = DegradationEncoder(config.encoder_width)
        self.key_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(config.queue_size, config.representation_dim), dim=1))
        self.register_buffer("queue_pointer", torch.zeros((), dtype=torch.long))
        self.conv_first = nn.Conv2d(3, config.width, 3, 1, 1)
        self.groups = nn.ModuleList(DAGroup(config) for _ in range(config.groups))
        self.conv_body = nn.Conv2d(config.width, config.width, 3, 1, 1)
        self.tail = tail.UpsampleTail(config.width, config.scale)
        srresnet.scaled_kaiming_([self.conv_first, self.conv_body], 0.1)

    def encode(self, lr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(representation N x D, projection N x D) of LR images."""
        return self.encoder(lr)

    def restore(self, lr: torch.Tensor, representation: torch.Tensor) -> torch.Tensor:
        """The SR image of ``lr`` (N x 3 x h x w) under a representation (N x D)."""
        features = self.conv_first(lr)
        out = features
        for group in self.groups:
            out = group(out, representation)
        return self.tail(features + self.conv_body(out), lr)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.restore(lr, self.encode(lr)[0])

    def contrastive_loss(self, query_projection: torch.Tensor, key_patches: torch.Tensor) -> torch.Tensor:
        """MoCo's InfoNCE loss: each query's positive is the key patch of the same LR image (its
        degradation), the negatives are the queue. Side effects, as MoCo's: the momentum update of
        the key encoder before the keys are computed, and the keys pushed into the queue after.

        Args:
            query_projection: N x D projections of the query patches (from :meth:`encode`).
            key_patches: N x 3 x h' x w' patches, one per query: another patch of the query's image,
                degraded alike (``faig.training.two_branch.key_patches``).

        Returns:
            The scalar loss (cross-entropy with the positive as class 0).
        """
        query = F.normalize(query_projection, dim=1)
        with torch.no_grad():
            for key_weight, weight in zip(self.key_encoder.parameters(), self.encoder.parameters()):
                key_weight.lerp_(weight, 1 - self.config.momentum)
            key = F.normalize(self.key_encoder(key_patches)[1], dim=1)
        positives = (query * key).sum(dim=1, keepdim=True)
        negatives = query @ self.queue.clone().t()
        logits = torch.cat([positives, negatives], dim=1) / self.config.temperature
        loss = F.cross_entropy(logits, torch.zeros(len(query), dtype=torch.long, device=query.device))
        self._enqueue(key)
        return loss

    @torch.no_grad()
    def _enqueue(self, keys: torch.Tensor) -> None:
        size = self.config.queue_size
        keys = keys[-size:]
        slots = (int(self.queue_pointer) + torch.arange(len(keys))) % size
        self.queue[slots.to(self.queue.device)] = keys
        self.queue_pointer.fill_((int(self.queue_pointer) + len(keys)) % size)
