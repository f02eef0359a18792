"""Degradation prediction without supervision (Sec. 4.3, 5.3, Eq. 8).

An input's own filter set is the top p% of its single-image FAIG scores (Eq. 6, no elimination
term); its overlap score with degradation D is OS(x, D) = |filters_D ∩ filters_x| / |filters_x|, and
x is predicted to contain D when OS(x, D) >= T_D. T_D maximises the accuracy on the calibration
split; the accuracy is then measured on the test split, a binary decision per degradation over all
four variants.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from faig.attribution.filters import FilterIndex
from faig.data.degradations import variant_parts
from faig.data.layout import Pair
from faig.errors import FaigError
from faig.experiments.common import outputs, runner


def own_filters(scores: torch.Tensor, index: FilterIndex, percent: float) -> torch.Tensor:
    """Each input's filter set: a boolean (n_images, total) mask of its top ``percent`` % filters by
    absolute single-image score (Eq. 6, no elimination term); ``index`` numbers the scores' filters."""
    count = index.top_count(percent)
    if count < 1:
        raise FaigError(f"{percent}% of {index.total} filters selects none")
    sets = torch.zeros(scores.shape, dtype=torch.bool)
    sets.scatter_(1, scores.abs().topk(count, dim=1).indices, True)
    return sets


def overlap_scores(image_sets: torch.Tensor, degradation_set: torch.Tensor) -> torch.Tensor:
    """Eq. 8 for each row of ``image_sets`` against one degradation's filter set (both boolean)."""
    sizes = image_sets.sum(1)
    if bool((sizes == 0).any()):
        raise FaigError("an input's filter set is empty")
    return (image_sets & degradation_set.bool()).sum(1).double() / sizes.double()


def has_degradation(variants: list[str], degradation: str) -> torch.Tensor:
    """Ground-truth labels: whether each variant name (``clean``, ``blur+noise``, ``blur1+jpeg`` ...)
    contains the kind of degradation D (its level aside: ``blur1`` contains ``blur``)."""
    (kind,) = variant_parts(degradation) or ("clean",)
    return torch.tensor([kind in variant_parts(name) for name in variants])


def label_combinations(degradations: tuple[str, ...]) -> list[str]:
    """Every variant that N binary decisions can amount to, fewest degradations first: for
    (blur, noise) the paper's ``clean``, ``blur``, ``noise``, ``blur+noise``.

    Example:
        >>> label_combinations(("blur", "noise", "jpeg"))[4:]
        ['blur+noise', 'blur+jpeg', 'noise+jpeg', 'blur+noise+jpeg']
    """
    return ["clean"] + ["+".join(chosen) for size in range(1, len(degradations) + 1)
                        for chosen in itertools.combinations(degradations, size)]


def accuracy(scores: torch.Tensor, labels: torch.Tensor, threshold: float) -> float:
    """The share of inputs whose decision ``score >= threshold`` matches its label."""
    return float(((scores >= threshold) == labels).double().mean())


def choose_threshold(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """The threshold with the best accuracy: candidates lie midway between consecutive distinct
    scores (and beyond both ends); among equally good ones the middle one is taken."""
    values = torch.unique(scores.double())
    candidates = torch.cat([values[:1] - 1e-3, (values[1:] + values[:-1]) / 2, values[-1:] + 1e-3])
    accuracies = torch.tensor([accuracy(scores, labels, float(t)) for t in candidates])
    best = torch.nonzero(accuracies == accuracies.max()).flatten()
    return float(candidates[best[len(best) // 2]])


def predicted_variant(decisions: dict[str, bool]) -> str:
    """The variant name that a set of binary decisions amounts to (in the decisions' order)."""
    present = [d for d, decided in decisions.items() if decided]
    return "+".join(present) if present else "clean"


def confusion(variants: list[str], decisions: dict[str, torch.Tensor]) -> dict[str, dict[str, int]]:
    """Counts of (true variant, predicted variant) over the test inputs, for any number of
    degradations (one threshold each, so several labels at once)."""
    labels = label_combinations(tuple(decisions))
    table = {true: {predicted: 0 for predicted in labels} for true in dict.fromkeys([*labels, *variants])}
    for position, true in enumerate(variants):
        table[true][predicted_variant({d: bool(flags[position]) for d, flags in decisions.items()})] += 1
    return table


def evaluate_prediction(calibrate_sets: torch.Tensor, calibrate_variants: list[str], test_sets: torch.Tensor,
                        test_variants: list[str], degradation_sets: dict[str, torch.Tensor]) -> dict:
    """Thresholds from the calibration inputs, accuracy and confusion table on the test inputs.

    ``*_sets`` are the inputs' own filter sets (:func:`own_filters`), ``degradation_sets`` the
    boolean top-p% masks of each degradation's Eq. 7 ranking (any number: one threshold per
    degradation, one against the rest). Returns plain data: per degradation ``threshold``,
    ``accuracy``, ``n``, ``calibrate_accuracy``, ``accuracy_by_variant`` and the test overlap scores
    by variant, plus ``confusion``."""
    result: dict = {"degradations": {}}
    decisions = {}
    names = list(dict.fromkeys([*label_combinations(tuple(degradation_sets)), *test_variants]))
    for degradation in degradation_sets:
        calibrate_scores = overlap_scores(calibrate_sets, degradation_sets[degradation])
        calibrate_labels = has_degradation(calibrate_variants, degradation)
        threshold = choose_threshold(calibrate_scores, calibrate_labels)
        test_scores = overlap_scores(test_sets, degradation_sets[degradation])
        test_labels = has_degradation(test_variants, degradation)
        decisions[degradation] = test_scores >= threshold
        result["degradations"][degradation] = {
            "threshold": threshold,
            "accuracy": accuracy(test_scores, test_labels, threshold),
            "n": len(test_variants),
            "calibrate_accuracy": accuracy(calibrate_scores, calibrate_labels, threshold),
            "accuracy_by_variant": {name: accuracy(test_scores[kept], test_labels[kept], threshold)
                                    for name in names
                                    if (kept := torch.tensor([v == name for v in test_variants])).any()},
            "test_overlaps": {name: [float(s) for s, v in zip(test_scores, test_variants) if v == name]
                              for name in names},
        }
    result["confusion"] = confusion(test_variants, decisions)
    return result


def reference_free_pairs(target: nn.Module, pairs: list[Pair]) -> list[Pair]:
    """Beyond the paper, for photos without ground truth: the target's own output stands in for
    x_gt in Eq. 3, so Eq. 6 attributes how far the baseline's output departs from the target's."""
    restored = outputs(runner(target), [pair.lr for pair in pairs])
    return [Pair(pair.name, pair.lr, output) for pair, output in zip(pairs, restored)]
