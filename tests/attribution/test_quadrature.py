import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from faig.attribution.quadrature import DEFAULT_STEPS, RULES, quadrature
from faig.errors import FaigError


@pytest.mark.parametrize("rule", RULES)
def test_weights_sum_to_one_and_nodes_lie_in_the_unit_interval(rule):
    nodes, weights = quadrature(rule)
    assert len(nodes) == len(weights) == DEFAULT_STEPS[rule]
    assert weights.sum().item() == pytest.approx(1.0, abs=1e-12)
    assert nodes.min() >= 0 and nodes.max() <= 1


def test_riemann_left_is_the_papers_eq6():
    nodes, weights = quadrature("riemann_left", 100)
    assert torch.equal(nodes, torch.arange(100, dtype=torch.float64) / 100)
    assert torch.all(weights == 0.01)


def test_trapezoid_includes_both_ends_with_half_weights():
    nodes, weights = quadrature("riemann_trapezoid", 5)
    assert nodes.tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert weights.tolist() == [0.125, 0.25, 0.25, 0.25, 0.125]


@settings(max_examples=30, deadline=None)
@given(steps=st.integers(1, 12), data=st.data())
def test_gauss_legendre_is_exact_up_to_degree_2n_minus_1(steps, data):
    degree = data.draw(st.integers(0, 2 * steps - 1), label="degree")
    nodes, weights = quadrature("gausslegendre", steps)
    assert (weights * nodes**degree).sum().item() == pytest.approx(1 / (degree + 1), rel=1e-10)


@pytest.mark.parametrize("steps", range(1, 9))
def test_gauss_legendre_is_not_exact_at_degree_2n(steps):
    """The n-node rule's error on [0, 1] is (n!)^4 / ((2n+1) ((2n)!)^3) f^(2n)(xi); for x^(2n),
    f^(2n) = (2n)! everywhere, so the sum falls short of 1/(2n+1) by exactly (n!)^4 / ((2n+1) ((2n)!)^2)
    (1/12 for n = 1: the midpoint gives 1/4 for 1/3). Up to n = 8 (3.6e-10) the gap is far above
    float64 rounding."""
    nodes, weights = quadrature("gausslegendre", steps)
    exact = 1 / (2 * steps + 1)
    error = math.factorial(steps) ** 4 / ((2 * steps + 1) * math.factorial(2 * steps) ** 2)
    approximation = (weights * nodes ** (2 * steps)).sum().item()
    assert approximation != pytest.approx(exact, rel=1e-10)
    assert exact - approximation == pytest.approx(error, rel=1e-4)


@pytest.mark.parametrize("rule, steps", [("simpson", None), ("gausslegendre", 0), ("riemann_trapezoid", 1),
                                         ("riemann_left", 2.5)])
def test_bad_rules_and_step_counts_are_refused(rule, steps):
    with pytest.raises(FaigError):
        quadrature(rule, steps)
