import pytest
import torch

from faig.attribution.filters import FilterIndex, FilterLayer
from faig.errors import FaigError
from faig.experiments.prediction import (choose_threshold, confusion, evaluate_prediction, has_degradation,
                                         own_filters, overlap_scores, predicted_variant, reference_free_pairs)


def as_set(indices: list[int], total: int = 10) -> torch.Tensor:
    mask = torch.zeros(total, dtype=torch.bool)
    mask[indices] = True
    return mask


def test_overlap_scores_on_hand_built_sets():
    degradation = as_set([0, 1, 2, 3])
    images = torch.stack([as_set([0, 1, 2, 3]), as_set([0, 1, 8, 9]), as_set([5, 6, 7, 8]), as_set([3, 9])])
    assert overlap_scores(images, degradation).tolist() == [1.0, 0.5, 0.0, 0.5]


def test_empty_input_sets_are_refused():
    with pytest.raises(FaigError):
        overlap_scores(torch.zeros(1, 10, dtype=torch.bool), as_set([1]))


def test_own_filters_are_the_top_percent_by_absolute_score():
    scores = torch.tensor([[0.1, -5.0, 0.3, 2.0, 0.0], [1.0, 0.0, 0.0, 0.0, -0.5]])
    index = FilterIndex((FilterLayer("conv.weight", 5, 1, 0),))
    sets = own_filters(scores, index, 40)
    assert sets.tolist() == [[False, True, False, True, False], [True, False, False, False, True]]
    with pytest.raises(FaigError):
        own_filters(scores, index, 1)


def test_labels_follow_the_variant_names():
    assert has_degradation(["clean", "blur", "noise", "blur+noise"], "blur").tolist() == [False, True, False, True]
    with pytest.raises(FaigError):
        has_degradation(["fog"], "blur")


def test_threshold_separates_separable_scores_in_the_middle_of_the_gap():
    scores = torch.tensor([0.1, 0.2, 0.25, 0.6, 0.7, 0.9])
    labels = torch.tensor([False, False, False, True, True, True])
    threshold = choose_threshold(scores, labels)
    assert 0.25 < threshold <= 0.6
    assert threshold == pytest.approx(0.425)


def test_confusion_counts_joint_decisions():
    variants = ["clean", "blur", "noise", "blur+noise"]
    decisions = {"blur": torch.tensor([False, True, True, True]), "noise": torch.tensor([False, False, True, False])}
    table = confusion(variants, decisions)
    assert table["clean"]["clean"] == 1 and table["blur"]["blur"] == 1
    assert table["noise"]["blur+noise"] == 1 and table["blur+noise"]["blur"] == 1
    assert predicted_variant({"blur": False, "noise": True}) == "noise"


def test_evaluation_on_hand_built_sets_is_perfect_when_the_sets_say_so():
    blur_set, noise_set = as_set([0, 1, 2, 3], 12), as_set([6, 7, 8, 9], 12)
    own = {"clean": as_set([4, 5, 10, 11], 12), "blur": as_set([0, 1, 2, 4], 12),
           "noise": as_set([6, 7, 8, 5], 12), "blur+noise": as_set([0, 1, 6, 7], 12)}
    variants = ["clean", "blur", "noise", "blur+noise"] * 2
    sets = torch.stack([own[v] for v in variants])
    result = evaluate_prediction(sets, variants, sets, variants, {"blur": blur_set, "noise": noise_set})
    for degradation in ("blur", "noise"):
        entry = result["degradations"][degradation]
        assert entry["accuracy"] == 1.0 and entry["n"] == 8
        assert entry["threshold"] == pytest.approx(0.25)  # midway between 0 (without D) and 0.5
    assert all(result["confusion"][v][v] == 2 for v in variants)


def test_reference_free_pairs_take_the_target_output_as_ground_truth(pair_models, pairs):
    _, target = pair_models
    free = reference_free_pairs(target, pairs)
    assert [p.name for p in free] == [p.name for p in pairs]
    with torch.no_grad():  # the target's 8-bit output, as a saved PNG of it would read back (batching may
        expected = [(target(p.lr).clamp(0, 1) * 255).round() / 255 for p in pairs]  # flip a rare rounding)
    for f, e in zip(free, expected):
        assert (f.hr - e).abs().max() <= 1 / 255 + 1e-6 and (f.hr == e).float().mean() > 0.99
    assert all(not torch.equal(f.hr, p.hr) for f, p in zip(free, pairs))
    assert all(torch.equal(f.lr, p.lr) for f, p in zip(free, pairs))


def test_three_degradations_predict_several_labels_at_once():
    """N-way Eq. 8: one threshold per degradation; the confusion matrix spans every combination."""
    from faig.experiments.prediction import evaluate_prediction, has_degradation

    total = 16
    sets = {d: torch.zeros(total, dtype=torch.bool) for d in ("blur", "noise", "jpeg")}
    sets["blur"][0:4] = True
    sets["noise"][4:8] = True
    sets["jpeg"][8:12] = True

    def own(variant: str) -> torch.Tensor:
        row = torch.zeros(total, dtype=torch.bool)
        for k, d in enumerate(("blur", "noise", "jpeg")):
            if d in variant.split("+"):
                row[4 * k:4 * k + 2] = True
        if variant == "clean":
            row[12:15] = True  # filters no degradation set holds
        return row

    variants = ["clean", "blur", "noise", "jpeg", "blur+jpeg", "noise+jpeg", "blur+noise+jpeg"] * 2
    own_sets = torch.stack([own(v) for v in variants])
    result = evaluate_prediction(own_sets, variants, own_sets, variants, sets)
    assert {d: result["degradations"][d]["accuracy"] for d in sets} == {"blur": 1.0, "noise": 1.0, "jpeg": 1.0}
    assert result["confusion"]["blur+jpeg"]["blur+jpeg"] == 2
    assert len(result["confusion"]["clean"]) == 8
    assert has_degradation(["blur1+jpeg50", "noise0.05"], "blur").tolist() == [True, False]
