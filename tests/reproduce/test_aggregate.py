import statistics

import pytest

from faig.reproduce.aggregate import aggregate, aggregate_prediction, aggregate_retrain, gather, psnr_summary, summary


def retrain_seed(faig: list[float], random: list[float]) -> dict:
    """One seed's re-training PSNRs: every run of the blur filters on the blur task as given."""
    runs = {"upper_bound": {t: [30.0, 31.0] for t in ("blur", "noise")}}
    for method in ("faig", "ig", "abs", "random"):
        values = faig if method != "random" else random
        runs[method] = {d: {t: list(values) for t in ("blur", "noise")} for d in ("blur", "noise")}
    return runs


def test_one_seed_spreads_over_images_several_over_seed_means():
    assert summary([[1.0, 2.0, 3.0]]) == {"mean": 2.0, "std": 1.0}
    assert summary([[1.0, 3.0], [5.0, 7.0]]) == {"mean": 4.0, "std": pytest.approx(2 ** 1.5)}


def test_the_gain_over_random_is_paired_per_image():
    # Images differ by 10 dB, the runs by exactly 0.1 dB on each: Table 3's ± is 5 dB, the paired one 0.
    result = aggregate_retrain([retrain_seed([20.1, 30.1], [20.0, 30.0])])
    assert result["faig"]["blur"]["blur"]["std"] == pytest.approx(50 ** 0.5)
    gain = result["gain_over_random"]["faig"]["blur"]["blur"]
    assert gain["mean"] == pytest.approx(0.1) and gain["std"] == pytest.approx(0.0, abs=1e-12)
    assert set(result["gain_over_random"]) == {"faig", "ig", "abs"}
    assert result["upper_bound"]["blur"] == {"psnr": 30.5, "std": pytest.approx(0.5 ** 0.5)}


def test_over_seeds_the_gain_spread_is_that_of_each_seeds_mean_difference():
    result = aggregate_retrain([retrain_seed([20.1, 30.1], [20.0, 30.0]), retrain_seed([20.3, 30.3], [20.0, 30.0])])
    gain = result["gain_over_random"]["faig"]["blur"]["blur"]
    assert gain["mean"] == pytest.approx(0.2) and gain["std"] == pytest.approx(0.02 ** 0.5)


# psnr_summary, gather, aggregate_prediction and aggregate: every expected mean and std below is
# worked out by hand (sample std of two values a, b: |a - b| / sqrt(2)).


def test_psnr_summary_names_the_mean_psnr_and_its_sample_std():
    assert psnr_summary([30.0, 32.0]) == {"psnr": 31.0, "std": pytest.approx(2 ** 0.5)}
    assert psnr_summary([29.0, 30.0, 34.0]) == {"psnr": 31.0, "std": pytest.approx(7 ** 0.5)}  # (4+1+9)/2
    assert psnr_summary([28.5]) == {"psnr": 28.5, "std": 0.0}


def test_gather_zips_same_shaped_dicts_and_reduces_each_leaf_in_the_first_seeds_key_order():
    seeds = [{"b": {"y": 1.0, "x": 2.0}, "a": 10.0}, {"b": {"y": 3.0, "x": 6.0}, "a": 20.0}]
    result = gather(seeds, statistics.fmean)
    assert result == {"b": {"y": 2.0, "x": 4.0}, "a": 15.0}
    assert list(result) == ["b", "a"] and list(result["b"]) == ["y", "x"]
    # A leaf is anything but a dict: lists reach ``leaf`` whole, one per seed.
    assert gather([{"k": [1, 2]}, {"k": [3]}], list) == {"k": [[1, 2], [3]]}
    assert gather([2, 5], max) == 5


def prediction_seed(blur: tuple[float, float, float], noise: tuple[float, float, float],
                    clean_hits: float, confusion: dict) -> dict:
    """One seed's Eq. 8 result per degradation: (threshold, accuracy, calibrate accuracy)."""
    def one(threshold, accuracy, calibrate):
        return {"threshold": threshold, "accuracy": accuracy, "n": 12, "calibrate_accuracy": calibrate,
                "accuracy_by_variant": {"clean": clean_hits, "blur": accuracy}, "test_overlaps": {"clean": [0.1]}}
    return {"degradations": {"blur": one(*blur), "noise": one(*noise)}, "confusion": confusion}


def test_aggregate_prediction_means_thresholds_and_accuracies_and_sums_the_confusion():
    first = prediction_seed((0.4, 0.75, 1.0), (0.6, 0.5, 0.5), 1.0,
                            {"clean": {"clean": 3, "blur": 1}, "blur": {"clean": 0, "blur": 4}})
    second = prediction_seed((0.5, 0.25, 0.5), (0.7, 1.0, 0.75), 0.5,
                             {"clean": {"clean": 2, "blur": 2}, "blur": {"clean": 1, "blur": 3}})
    table, confusion = aggregate_prediction([first, second])
    assert list(table) == ["blur", "noise"]
    assert table["blur"] == {"threshold": pytest.approx(0.45), "accuracy": 0.5, "n": 12, "calibrate_accuracy": 0.75,
                             "accuracy_by_variant": {"clean": 0.75, "blur": 0.5}}
    assert table["noise"]["threshold"] == pytest.approx(0.65)
    assert table["noise"]["accuracy"] == 0.75 and table["noise"]["calibrate_accuracy"] == 0.625
    assert table["noise"]["accuracy_by_variant"] == {"clean": 0.75, "blur": 0.75}
    assert confusion == {"clean": {"clean": 5, "blur": 3}, "blur": {"clean": 1, "blur": 7}}


def seed_steps(offset: float) -> dict:
    """One seed's data of every step but prediction and re-training, shifted by ``offset``."""
    return {
        "models": {"baseline": {"clean": 30.0 + offset, "blur": 25.0 + offset},
                   "target": {"clean": 29.0 + offset, "blur": 27.0 - offset},
                   "bicubic": {"clean": 28.0, "blur": 24.0}},
        "masking": {"faig": {"blur": {"1": {"blur_input": [1.0 + offset, 3.0 + offset],
                                            "noise_input": [0.5, 0.5]}}}},
        "masking_official": {"faig": {"blur": {"1": {"blur_input": [4.0 + offset]}}}},
        "ablation": {"with_elimination": {"blur_input": [2.0 + offset, 4.0 + offset]},
                     "without_elimination": {"blur_input": [1.0, 1.0]}},
        "distribution": {"blur": {"conv1": 0.25 + offset / 8, "conv2": 0.75 - offset / 8}},
        "heads": {"blur": {}},
        "modulation": {"blur": [{"lambda": 0.0, "psnr": 20.0 + offset, "gradient_energy": 0.1},
                                {"lambda": 1.0, "psnr": 24.0, "gradient_energy": 0.2 + offset / 10}]},
    }


def two_seeds(levels: bool = True) -> dict[str, list]:
    seeds = [seed_steps(0.0), seed_steps(4.0)]
    per_seed = {step: [seed[step] for seed in seeds] for step in seeds[0]}
    confusion = {"clean": {"clean": 1, "blur": 0}, "blur": {"clean": 0, "blur": 1}}
    prediction = prediction_seed((0.4, 0.75, 1.0), (0.6, 0.5, 0.5), 1.0, confusion)
    free = prediction_seed((0.2, 0.5, 0.5), (0.3, 0.25, 0.5), 0.0, confusion)
    per_seed["prediction"] = [{"standard": prediction, "reference_free": free}]  # the first seed only
    per_seed["retrain"] = [retrain_seed([20.1, 30.1], [20.0, 30.0])]
    if levels:
        per_seed["levels"] = [{"blur": {"levels": ["blur1", "blur2"]}}]
    return per_seed


def test_aggregate_reduces_every_section_over_two_seeds():
    entry = aggregate(two_seeds())
    # models: mean ± std over the seeds' PSNRs.
    assert entry.models["baseline"]["clean"] == {"psnr": 32.0, "std": pytest.approx(8 ** 0.5)}
    assert entry.models["target"]["blur"] == {"psnr": 25.0, "std": pytest.approx(8 ** 0.5)}
    assert entry.models["bicubic"]["clean"] == {"psnr": 28.0, "std": 0.0}
    # masking, masking_official, ablation: over the seeds' means (2 and 6; 3 and 7), not the images.
    assert entry.masking["faig"]["blur"]["1"]["blur_input"] == {"mean": 4.0, "std": pytest.approx(8 ** 0.5)}
    assert entry.masking["faig"]["blur"]["1"]["noise_input"] == {"mean": 0.5, "std": 0.0}
    assert entry.masking_official["faig"]["blur"]["1"]["blur_input"] == {"mean": 6.0, "std": pytest.approx(8 ** 0.5)}
    assert entry.ablation["with_elimination"]["blur_input"] == {"mean": 5.0, "std": pytest.approx(8 ** 0.5)}
    assert entry.ablation["without_elimination"]["blur_input"] == {"mean": 1.0, "std": 0.0}
    # distribution and heads: plain means.
    assert entry.distribution == {"blur": {"conv1": 0.5, "conv2": 0.5}}
    assert entry.heads == {"blur": {}}
    # modulation: per λ the mean PSNR and gradient energy.
    assert entry.modulation["blur"] == [{"lambda": 0.0, "psnr": 22.0, "gradient_energy": pytest.approx(0.1)},
                                        {"lambda": 1.0, "psnr": 24.0, "gradient_energy": pytest.approx(0.4)}]
    # prediction from the one seed that ran it, each mode in its own section.
    assert entry.prediction["blur"]["threshold"] == 0.4 and entry.prediction["noise"]["accuracy"] == 0.5
    assert entry.prediction_reference_free["blur"]["threshold"] == 0.2
    assert entry.prediction_reference_free["noise"]["accuracy"] == 0.25
    assert entry.prediction_confusion == {"clean": {"clean": 1, "blur": 0}, "blur": {"clean": 0, "blur": 1}}
    assert entry.prediction_reference_free_confusion == entry.prediction_confusion
    # re-training from its one seed: over the images (20.1, 30.1): ± sqrt(50).
    assert entry.retrain["faig"]["blur"]["noise"] == {"mean": pytest.approx(25.1), "std": pytest.approx(50 ** 0.5)}
    assert entry.retrain["gain_over_random"]["ig"]["noise"]["blur"]["mean"] == pytest.approx(0.1)
    # levels: the first seed's study as it is.
    assert entry.levels == {"blur": {"levels": ["blur1", "blur2"]}}


def test_aggregate_without_a_level_study_leaves_levels_empty():
    assert aggregate(two_seeds(levels=False)).levels == {}
