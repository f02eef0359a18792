"""Training batches: each LR patch is its GT patch under the degradation reported for it."""

import torch

from faig.data.degradations import DegradationSampler, degrade_batch
from faig.data.patches import training_batch
from faig.data.splits import NamedImage


def test_each_lr_patch_is_its_gt_under_the_reported_degradation():
    """Blur without noise draws no further random numbers, so each sample can be degraded again alone."""
    generator = torch.Generator().manual_seed(0)
    images = [NamedImage(f"img{i}", torch.rand(1, 3, 40, 40, generator=generator)) for i in range(2)]
    sampler = DegradationSampler(2, blur_prob=0.5, blur_sigmas=(1.0, 3.0))
    lr, gt, degradations, sources = training_batch(images, 8, 16, sampler, torch.Generator().manual_seed(4))
    assert lr.shape == (8, 3, 8, 8) and gt.shape == (8, 3, 16, 16) and len(degradations) == 8
    assert set(sources) == {0, 1}
    for patch, source in zip(gt, sources):  # a flipped or transposed crop of the image it names
        assert torch.isin(patch, images[source].hr).all() and not torch.isin(patch, images[1 - source].hr).all()
    sigmas = {d.blur_sigma for d in degradations}
    assert None in sigmas and sigmas - {None} and sigmas <= {None, 1.0, 3.0}  # blurred and sharp samples
    for i, degradation in enumerate(degradations):
        alone = degrade_batch(gt[i:i + 1], [degradation], torch.Generator())
        assert torch.equal(lr[i:i + 1], alone), i
    assert not torch.equal(lr[0], lr[1])


def test_the_same_seed_draws_the_same_batch():
    images = [NamedImage("img", torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1)))]
    sampler = DegradationSampler(2, 0.5, (2.0,), 0.5, (0.1,))
    first, again = (training_batch(images, 4, 16, sampler, torch.Generator().manual_seed(7)) for _ in range(2))
    assert torch.equal(first.lr, again.lr) and torch.equal(first.gt, again.gt)
    assert first.degradations == again.degradations and first.sources == again.sources
