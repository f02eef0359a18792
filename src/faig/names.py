"""The project's vocabulary, in one place: the degradations whose filters are found, the
attribution methods compared in Sec. 5.2, and how the report and the console spell them.

Every other module imports these names instead of spelling them again, so a new degradation or
method is added here once. The evaluation variants (``clean``, ``blur+noise`` ...) belong to the
degradation model itself (:mod:`faig.data.degradations`).

Example:
    >>> DEGRADATIONS
    ('blur', 'noise')
    >>> input_kind("noise"), function_label("noise"), method_label("abs")
    ('noise_input', 'denoising', '|θ − θ̄|')
"""

from __future__ import annotations

# The degradations of Sec. 5 whose discriminative filters are found (Eq. 7): the filter sets, the
# re-training tasks (Table 3) and the input kinds of the masking experiments (Table 2).
DEGRADATIONS: tuple[str, ...] = ("blur", "noise")
_ADJECTIVES: dict[str, str] = {"blur": "blurry", "noise": "noisy"}
_FUNCTIONS: dict[str, str] = {"blur": "deblurring", "noise": "denoising"}

# Sec. 5.2: FAIG against integrated gradients on the input, |θ − θ̄| and random filters.
METHODS: tuple[str, ...] = ("faig", "ig", "abs", "random")
IMAGE_METHODS: tuple[str, ...] = ("faig", "ig")  # the methods that need images
_METHOD_LABELS: dict[str, str] = {"faig": "FAIG", "ig": "IG", "abs": "|θ − θ̄|", "random": "Random"}


def input_kind(degradation: str) -> str:
    """The key results.json gives the inputs degraded by ``degradation`` (``blur`` -> ``blur_input``)."""
    return f"{degradation}_input"


def input_label(degradation: str) -> str:
    """How the report names such inputs: ``blurry input``, ``noisy input``."""
    return f"{_ADJECTIVES.get(degradation, degradation)} input"


def function_label(degradation: str) -> str:
    """The restoration a degradation's filters perform: ``deblurring``, ``denoising``."""
    return _FUNCTIONS.get(degradation, degradation)


def task_label(degradation: str) -> str:
    """A re-training task (Table 3) as the report names it: ``Blurry (deblurring task)``."""
    return f"{_ADJECTIVES.get(degradation, degradation).capitalize()} ({function_label(degradation)} task)"


def method_label(method: str) -> str:
    """An attribution method as the paper names it: ``FAIG``, ``IG``, ``|θ − θ̄|``, ``Random``."""
    return _METHOD_LABELS.get(method, method)
