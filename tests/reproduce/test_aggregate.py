import pytest

from faig.reproduce.aggregate import aggregate_retrain, summary


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
