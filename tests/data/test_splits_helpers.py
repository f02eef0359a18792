"""centre_crops (the evaluation crops of a split) and image_seed (each image's fixed noise seed)."""

import zlib

import pytest
import torch

from faig.data.degradations import image_seed
from faig.data.splits import NamedImage, centre_crops
from faig.errors import FaigError


def coded(height: int, width: int) -> torch.Tensor:
    """A 1x3xHxW image whose value at (c, r, x) is 1000c + 100r + x: every crop names its origin."""
    c = torch.arange(3).view(1, 3, 1, 1)
    r = torch.arange(height).view(1, 1, height, 1)
    x = torch.arange(width).view(1, 1, 1, width)
    return (1000 * c + 100 * r + x).float()


def window(rows: range, cols: range) -> torch.Tensor:
    """The values ``coded`` holds at those rows and columns, written out from its formula."""
    return torch.tensor([[[1000 * c + 100 * r + x for x in cols] for r in rows] for c in range(3)]).float()[None]


def test_centre_crop_takes_the_middle_window_rounding_the_offset_down():
    # 7x10 to 4: top (7-4)//2 = 1, left (10-4)//2 = 3.
    crop, = centre_crops([NamedImage("p", coded(7, 10))], 4)
    assert crop.name == "p"
    assert torch.equal(crop.hr, window(range(1, 5), range(3, 7)))


def test_centre_crop_keeps_a_smaller_side_whole():
    # 3x10 to 4: every row (top 0), the columns from (10-4)//2 = 3; a 3x2 image stays whole.
    wide, small = centre_crops([NamedImage("w", coded(3, 10)), NamedImage("s", coded(3, 2))], 4)
    assert torch.equal(wide.hr, window(range(0, 3), range(3, 7)))
    assert torch.equal(small.hr, coded(3, 2)) and small.name == "s"


def test_centre_crop_then_mod_crops_the_bottom_right_to_the_scale():
    # 7x10 to 5: top 1, left 2, a 5x5 window; x2 drops its last row and column: rows 1-4, columns 2-5.
    crop, = centre_crops([NamedImage("p", coded(7, 10))], 5, scale=2)
    assert torch.equal(crop.hr, window(range(1, 5), range(2, 6)))
    crop, = centre_crops([NamedImage("p", coded(7, 10))], 6, scale=3)  # top 0, left 2: 6x6 already a multiple
    assert torch.equal(crop.hr, window(range(0, 6), range(2, 8)))


def test_centre_crops_of_nothing_is_nothing():
    assert centre_crops([], 4) == []


def test_image_seed_is_the_crc32_of_the_name_plus_a_large_prime_step_per_seed():
    # CRC-32's published check value: crc32(b"123456789") = 0xCBF43926; crc32(b"") = 0.
    assert image_seed("123456789") == 0xCBF43926 == 3421780262
    assert image_seed("123456789", seed=2) == 3421780262 + 2 * 1_000_003
    assert image_seed("", seed=3) == 3_000_009
    assert image_seed("chelsea_r0c1", 5) == zlib.crc32(b"chelsea_r0c1") + 5_000_015


@pytest.mark.parametrize("name", ["motorcycle_left_r0c0", "moon_r1c2", "img0"])
def test_image_seed_is_fixed_per_name_and_seed_and_the_seed_moves_it(name):
    assert image_seed(name, 1) == image_seed(name, 1)
    assert len({image_seed(name, s) for s in range(4)}) == 4
    assert image_seed(name) == image_seed(name, 0)
    assert image_seed(name) != image_seed(name + "x")


def test_image_seed_takes_the_largest_seed_and_torch_takes_the_result():
    seed = image_seed("", 2**32 - 1)
    assert seed == (2**32 - 1) * 1_000_003
    assert torch.Generator().manual_seed(seed).initial_seed() == seed


@pytest.mark.parametrize("seed", [-1, 2**32, 20_000_000_000_000, 99999999999999999999])
def test_image_seed_refuses_a_seed_out_of_range_for_every_synthesised_input(seed):
    from faig.data.degradations import degrade_image, variant

    message = rf"^seed must be an integer in \[0, 4294967295\], got {seed}$"
    with pytest.raises(FaigError, match=message):
        image_seed("img0", seed)
    with pytest.raises(FaigError, match=message):  # eval's and attribute's inputs are made here
        degrade_image(torch.rand(1, 3, 8, 8), "img0", variant("noise"), seed)
