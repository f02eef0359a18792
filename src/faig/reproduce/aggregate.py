"""One architecture's results over its seeds: each step's per-seed data reduced to mean ± std.

A spread is over the seeds' means when a step ran with several seeds, else over the images of the
one seed. Re-training gets, besides Table 3's mean ± std per run, the paired per-image difference
to random filters (``gain_over_random``): the 0.03-0.2 dB differences Table 3 judges are far
smaller than the spread of PSNR over images, which a difference per image cancels.
"""

from __future__ import annotations

import statistics
from typing import Any, Callable

from faig.experiments.common import mean_std
from faig.names import METHODS
from faig.results import ArchResults, Score, Stat


def psnr_summary(values: list[float]) -> Score:
    """Mean ± std of PSNRs under the keys results.json gives models and upper bounds."""
    stats = mean_std(values)
    return {"psnr": stats["mean"], "std": stats["std"]}


def summary(per_seed: list[list[float]]) -> Stat:
    """Mean ± std: over the seeds' means when there are several seeds, else over the images.

    Example:
        >>> summary([[1.0, 3.0]]), summary([[1.0, 3.0], [3.0, 5.0]])
        ({'mean': 2.0, 'std': 1.4142135623730951}, {'mean': 3.0, 'std': 1.4142135623730951})
    """
    return mean_std([statistics.fmean(v) for v in per_seed] if len(per_seed) > 1 else per_seed[0])


def gather(per_seed: list[Any], leaf: Callable[[list[Any]], Any]) -> Any:
    """Zip nested dicts of the same shape (one per seed) and reduce each leaf list with ``leaf``.

    Example:
        >>> gather([{"a": {"b": 1}}, {"a": {"b": 3}}], sum)
        {'a': {'b': 4}}
    """
    if isinstance(per_seed[0], dict):
        return {key: gather([entry[key] for entry in per_seed], leaf) for key in per_seed[0]}
    return leaf(per_seed)


def aggregate_prediction(per_seed: list[dict]) -> tuple[dict, dict]:
    """Per degradation: mean threshold and accuracy over seeds, inputs per seed; the summed confusion."""
    table = {d: {"threshold": statistics.fmean(s["degradations"][d]["threshold"] for s in per_seed),
                 "accuracy": statistics.fmean(s["degradations"][d]["accuracy"] for s in per_seed),
                 "n": per_seed[0]["degradations"][d]["n"],
                 "calibrate_accuracy": statistics.fmean(s["degradations"][d]["calibrate_accuracy"] for s in per_seed),
                 "accuracy_by_variant": gather([s["degradations"][d]["accuracy_by_variant"] for s in per_seed],
                                               statistics.fmean)}
             for d in per_seed[0]["degradations"]}
    confusion = gather([s["confusion"] for s in per_seed], sum)
    return table, confusion


def paired_differences(run: list[float], reference: list[float]) -> list[float]:
    """Per-image PSNR differences between two re-training runs on the same test images."""
    return [a - b for a, b in zip(run, reference)]


def aggregate_retrain(per_seed: list[dict]) -> dict:
    """Table 3 (mean ± std per run, the upper bound as a PSNR) and each method's paired gain over
    random filters with the same filter set, task and seed."""
    retrained = gather(per_seed, summary)
    retrained["upper_bound"] = {task: {"psnr": value["mean"], "std": value["std"]}
                                for task, value in retrained["upper_bound"].items()}
    tasks = list(per_seed[0]["upper_bound"])  # the degradations: each a filter set and a task
    retrained["gain_over_random"] = {
        method: {d: {task: summary([paired_differences(seed[method][d][task], seed["random"][d][task])
                                    for seed in per_seed]) for task in tasks} for d in tasks}
        for method in METHODS if method != "random"}
    return retrained


def aggregate(per_seed: dict[str, list]) -> ArchResults:
    """One architecture's entry of each results.json section, from its seeds' data (``per_seed[step]``
    lists one value per seed; prediction and re-training only for the seeds that ran them)."""
    prediction = {mode: aggregate_prediction([s[mode] for s in per_seed["prediction"]])
                  for mode in ("standard", "reference_free")}
    return ArchResults(
        models=gather(per_seed["models"], psnr_summary),
        masking=gather(per_seed["masking"], summary),
        masking_official=gather(per_seed["masking_official"], summary),
        retrain=aggregate_retrain(per_seed["retrain"]),
        distribution=gather(per_seed["distribution"], statistics.fmean),
        heads=gather(per_seed["heads"], statistics.fmean),
        prediction=prediction["standard"][0],
        prediction_reference_free=prediction["reference_free"][0],
        prediction_confusion=prediction["standard"][1],
        prediction_reference_free_confusion=prediction["reference_free"][1],
        ablation=gather(per_seed["ablation"], summary),
        modulation={d: [{"lambda": points[0]["lambda"], "psnr": statistics.fmean(p["psnr"] for p in points),
                         "gradient_energy": statistics.fmean(p["gradient_energy"] for p in points)}
                        for points in zip(*[entry[d] for entry in per_seed["modulation"]])]
                    for d in per_seed["modulation"][0]},
        levels=per_seed["levels"][0] if per_seed.get("levels") else {},
    )
