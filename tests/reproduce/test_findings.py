"""The claims table judged on hand-made results: each threshold, and what each verdict's ± is over."""

import pytest

from faig.names import DEGRADATIONS, METHODS, input_kind
from faig.reproduce.findings import CLAIMS, judge
from faig.results import ArchResults

ONE_SEED = {"models": 1, "masking": 1, "ablation": 1, "retrain": 1, "prediction": 1}
SPREAD = {"masking": "images", "ablation": "images", "retrain": "images", "models": "seeds"}


def stat(mean: float, std: float = 0.1) -> dict:
    return {"mean": mean, "std": std}


def results(own: float = 4.0, cross: float = 1.0, random: float = 0.5, other: float = 2.0, gain: float = 0.6,
            accuracy: float = 0.95, kept: float = 1.0, lost: float = 3.0, baseline: float = 31.0,
            degradations: tuple[str, ...] = DEGRADATIONS, crosses: dict | None = None) -> ArchResults:
    """Results in which every claim holds with the defaults; each argument moves one measurement
    (``crosses[(filters, on)]``: one cross drop of FAIG's filters)."""

    def drop(method: str, filters: str, on: str) -> float:
        if method == "faig" and filters != on:
            return (crosses or {}).get((filters, on), cross)
        return {"faig": own, "random": random}.get(method, other)

    masking = {m: {d: {"1": {input_kind(o): stat(drop(m, d, o)) for o in degradations}} for d in degradations}
               for m in METHODS}
    retrain = {m: {d: {t: stat(27.0 + (gain if m == "faig" else 0.0)) for t in degradations} for d in degradations}
               for m in METHODS}
    retrain["upper_bound"] = {t: {"psnr": 29.0, "std": 0.0} for t in degradations}
    retrain["gain_over_random"] = {m: {d: {t: stat(gain, 0.02) for t in degradations} for d in degradations}
                                   for m in METHODS if m != "random"}
    models = {stage: {"clean": {"psnr": psnr, "std": 0.0}} for stage, psnr in
              (("baseline", baseline), ("target", 30.0), ("bicubic", 30.5))}
    prediction = {d: {"threshold": 0.5, "accuracy": accuracy, "n": 16, "calibrate_accuracy": 1.0,
                      "accuracy_by_variant": {}} for d in degradations}
    ablation = {"with_elimination": {input_kind(d): stat(kept) for d in degradations},
                "without_elimination": {input_kind(d): stat(lost) for d in degradations}}
    return ArchResults(models, masking, retrain, {}, prediction, prediction, {}, {}, ablation, {})


def verdicts(entry: ArchResults) -> dict[str, bool]:
    return {f["claim"]: f["holds"] for f in judge("srresnet", entry, SPREAD, ONE_SEED, DEGRADATIONS)}


def test_every_claim_is_checked_in_the_reports_order_and_holds_on_good_results():
    findings = judge("srresnet", results(), SPREAD, ONE_SEED, DEGRADATIONS)
    assert len(findings) == 11 and all(f["holds"] for f in findings)
    assert [f["key"] for f in findings][:4] == ["models/baseline", "masking/random", "masking/methods",
                                                "masking/discriminative"]
    assert {f["key"] for f in findings} == {c.key for c in CLAIMS}
    assert findings[3]["claim"] == ("masking 1% FAIG blur filters: the drop on noise inputs is much smaller (≤ 1/3) "
                                    "than on blur inputs")
    assert findings[1]["measured"] == "4 vs 0.5 (×8.0)"
    assert [f["section"] for f in findings][:4] == ["Sec. 4.1", "Sec. 5.2.1, Table 2", "Sec. 5.2.1, Table 2",
                                                    "Sec. 5.2.1, Fig. 3"]


@pytest.mark.parametrize("change,failing", [
    (dict(random=0.81), "≥ 5× the drop of random ones on blur inputs"),
    (dict(other=4.0), "larger drop than IG and |θ − θ̄| on blur inputs"),
    (dict(cross=1.34), "the drop on noise inputs is much smaller (≤ 1/3) than on blur inputs"),
    (dict(gain=0.49), "beats random ones by ≥ 0.5 dB"),
    (dict(accuracy=0.89), "accuracy ≥ 90% for blur"),
    (dict(lost=1.99), "harms noisy inputs at least twice as much"),
    (dict(baseline=30.5), "beats bicubic upsampling"),
])
def test_each_threshold_decides_its_claim(change, failing):
    failed = [claim for claim, holds in verdicts(results(**change)).items() if not holds]
    assert failed and failing in failed[0]


def test_the_spread_says_what_it_is_over():
    findings = {f["key"]: f["spread"] for f in judge("srresnet", results(), SPREAD, ONE_SEED, DEGRADATIONS)}
    assert findings["masking/random"] == "FAIG 4 ± 0.1, random 0.5 ± 0.1 over the images of one seed"
    assert findings["retrain/random"] == ("paired difference FAIG − random run +0.600 ± 0.020 dB "
                                          "over the images of one seed")
    assert "binomial standard error over 16 test inputs" in findings["prediction/accuracy"]
    seeds = judge("srresnet", results(), {**SPREAD, "masking": "seeds"}, {**ONE_SEED, "masking": 3}, DEGRADATIONS)
    assert seeds[1]["spread"].endswith("over 3 seeds")


def test_a_masking_verdict_says_whether_it_stands_at_the_neighbouring_cuts():
    """Issue 10: a finding that holds at 1% but not at 0.5% or 2% hinges on the filters near the cut."""
    entry = results()
    for method in METHODS:
        for d in DEGRADATIONS:
            entry.masking[method][d]["2"] = {kind: dict(value) for kind, value in entry.masking[method][d]["1"].items()}
    entry.masking["random"]["blur"]["2"][input_kind("blur")] = stat(1.0)  # FAIG only 4x random at 2%
    spreads = {(f["key"], f["claim"].split(" filters")[0]): f["spread"]
               for f in judge("srresnet", entry, SPREAD, ONE_SEED, DEGRADATIONS)}
    assert spreads[("masking/random", "masking 1% FAIG blur")].endswith(
        "; fails at 2%: the verdict hinges on the filters near the 1% cut")
    assert spreads[("masking/random", "masking 1% FAIG noise")].endswith("; same verdict at 2%")
    assert "cut" not in spreads[("models/baseline", "the baseline is a real SR model (Sec. 4.1): it beats bicubic "
                                                    "upsampling on clean inputs")]


def test_three_degradations_are_judged_one_against_the_rest():
    """Issue 12: N-way Eq. 7. Each degradation's set is judged against the other it hurts most; the
    claims made once (re-training, ablation) are made for the first degradation against the second."""
    three = ("blur", "noise", "jpeg")
    findings = judge("srresnet", results(degradations=three, crosses={("blur", "jpeg"): 1.3}), SPREAD, ONE_SEED,
                     three)
    assert len(findings) == 1 + 3 * 3 + 1 + 3 + 1 and all(f["holds"] for f in findings)
    discriminative = [f for f in findings if f["key"] == "masking/discriminative"]
    assert discriminative[0]["claim"] == ("masking 1% FAIG blur filters: the drop on noise and jpeg inputs is much "
                                          "smaller (≤ 1/3) than on blur inputs")
    assert discriminative[0]["measured"] == "1.3 (jpeg inputs, the most hurt of the others) vs 4"
    assert discriminative[2]["spread"].startswith("blur inputs 1 ± 0.1, jpeg inputs 4 ± 0.1")
    failing = judge("srresnet", results(degradations=three, crosses={("blur", "jpeg"): 1.4}), SPREAD, ONE_SEED,
                    three)
    assert [f["holds"] for f in failing if f["key"] == "masking/discriminative"] == [False, True, True]
    once = {f["key"]: f["claim"] for f in findings}
    assert once["retrain/random"].startswith("re-training 1% FAIG deblurring filters on the blur task")
    assert "harms noisy inputs" in once["ablation/elimination"]


def test_the_claims_made_once_follow_the_first_degradation():
    order = ("noise", "jpeg")
    once = {f["key"]: f["claim"] for f in judge("srresnet", results(degradations=order), SPREAD, ONE_SEED, order)}
    assert once["retrain/random"].startswith("re-training 1% FAIG denoising filters on the noise task")
    assert "harms compressed inputs" in once["ablation/elimination"]
