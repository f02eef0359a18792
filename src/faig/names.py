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
    >>> input_label("jpeg"), input_label("blur1"), function_label("noise0.05")
    ('compressed input', 'blurry (blur1) input', 'denoising (noise0.05)')
"""

from __future__ import annotations

from typing import Sequence

# The degradations of Sec. 5 whose discriminative filters are found (Eq. 7): the filter sets, the
# re-training tasks (Table 3) and the input kinds of the masking experiments (Table 2).
DEGRADATIONS: tuple[str, ...] = ("blur", "noise")
# Beyond the paper: JPEG (its conclusion asks for more degradation types); "deblocking" is the
# field's name for removing JPEG's artefacts.
_ADJECTIVES: dict[str, str] = {"blur": "blurry", "noise": "noisy", "jpeg": "compressed"}
_FUNCTIONS: dict[str, str] = {"blur": "deblurring", "noise": "denoising", "jpeg": "deblocking"}

# Sec. 5.2: FAIG against integrated gradients on the input, |θ − θ̄| and random filters.
METHODS: tuple[str, ...] = ("faig", "ig", "abs", "random")
IMAGE_METHODS: tuple[str, ...] = ("faig", "ig")  # the methods that need images
_METHOD_LABELS: dict[str, str] = {"faig": "FAIG", "ig": "IG", "abs": "|θ − θ̄|", "random": "Random"}


def input_kind(degradation: str) -> str:
    """The key results.json gives the inputs degraded by ``degradation`` (``blur`` -> ``blur_input``)."""
    return f"{degradation}_input"


def _worded(words: dict[str, str], degradation: str) -> str:
    """``degradation``'s word from ``words``; a level beyond the default is named after it
    (``blur1`` -> ``blurry (blur1)``), a name the vocabulary lacks is kept as it is."""
    kind = degradation.rstrip("0123456789.")
    if degradation in words or kind not in words:
        return words.get(degradation, degradation)
    return f"{words[kind]} ({degradation})"


def input_label(degradation: str) -> str:
    """How the report names such inputs: ``blurry input``, ``noisy input``, ``compressed input``."""
    return f"{_worded(_ADJECTIVES, degradation)} input"


def function_label(degradation: str) -> str:
    """The restoration a degradation's filters perform: ``deblurring``, ``denoising``, ``deblocking``."""
    return _worded(_FUNCTIONS, degradation)


def task_label(degradation: str) -> str:
    """A re-training task (Table 3) as the report names it: ``Blurry (deblurring task)``."""
    adjective = _worded(_ADJECTIVES, degradation)
    return f"{adjective[:1].upper()}{adjective[1:]} ({function_label(degradation)} task)"


def method_label(method: str) -> str:
    """An attribution method as the paper names it: ``FAIG``, ``IG``, ``|θ − θ̄|``, ``Random``."""
    return _METHOD_LABELS.get(method, method)


def name_list(text: str | Sequence[str]) -> tuple[str, ...]:
    """Names given as a comma-separated string (a command-line option) or as a sequence, as a tuple;
    blanks around and between them are dropped.

    Example:
        >>> name_list("blur, noise,"), name_list(["faig", "ig"])
        (('blur', 'noise'), ('faig', 'ig'))
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(item.strip() for item in items if item.strip())
