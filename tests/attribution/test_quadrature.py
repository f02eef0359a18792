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
@given(steps=st.integers(1, 12), degree=st.integers(0, 23))
def test_gauss_legendre_is_exact_up_to_degree_2n_minus_1(steps, degree):
    if degree > 2 * steps - 1:
        return
    nodes, weights = quadrature("gausslegendre", steps)
    assert (weights * nodes**degree).sum().item() == pytest.approx(1 / (degree + 1), rel=1e-10)


@pytest.mark.parametrize("rule, steps", [("simpson", None), ("gausslegendre", 0), ("riemann_trapezoid", 1),
                                         ("riemann_left", 2.5)])
def test_bad_rules_and_step_counts_are_refused(rule, steps):
    with pytest.raises(FaigError):
        quadrature(rule, steps)
