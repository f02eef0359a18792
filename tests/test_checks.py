"""check_seed: the one range every command's seed takes, refused in one line outside it."""

import pytest
import torch

from faig.checks import SEED_MAX, check_number, check_seed
from faig.errors import FaigError


@pytest.mark.parametrize("seed", [0, 1, 12345, SEED_MAX])
def test_a_seed_in_range_is_accepted_and_torch_takes_it(seed):
    check_seed("--seed", seed)
    assert torch.Generator().manual_seed(seed).initial_seed() == seed


@pytest.mark.parametrize("seed, shown", [
    (-1, "-1"), (SEED_MAX + 1, "4294967296"), (20_000_000_000_000, "20000000000000"),
    (99999999999999999999, "99999999999999999999"), (1.5, "1.5"), (True, "True"), ("3", "'3'"),
])
def test_a_seed_out_of_range_or_not_an_integer_is_refused_naming_the_range(seed, shown):
    with pytest.raises(FaigError) as error:
        check_seed("--seed", seed)
    assert str(error.value) == f"--seed must be an integer in [0, 4294967295], got {shown}"


def test_integer_bounds_are_written_whole_and_float_bounds_short():
    with pytest.raises(FaigError) as error:
        check_number("n", 0, 1_000_000, integer=True)
    assert str(error.value) == "n must be an integer >= 1000000, got 0"
    with pytest.raises(FaigError) as error:
        check_number("x", 0.0, 1e-7, open_low=True)
    assert str(error.value) == "x must be a finite number > 1e-07, got 0.0"
