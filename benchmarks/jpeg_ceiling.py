"""How much JPEG restoration the embedded SRResNet learns when JPEG is all it learns (issue 12).

Five wider-mix targets (benchmarks/paper_regime.py, srresnet_jpeg_r1 to r5) plateaued with test-split
JPEG gains over their shared baseline of +0.12 to +0.25 dB, under the +0.5 dB mark
(``faig.evaluate.BLIND_SR_MARKS``). Either the blind mix holds JPEG restoration back (it shares the
network with deblurring and denoising), or this network cannot learn more of it from the embedded
training split (nine photos, five of them grey). A JPEG specialist tells the two apart: r5's target
recipe (its shared baseline, rate, patches, channel order and gains, half its patches dead leaves),
every patch compressed at quality 30 and nothing else, for 10,000 steps in one cosine cycle (as many
compressed patches as r5's quarter of 60,000 saw with nothing else to learn; r5 reached its JPEG
plateau well before its end).

The specialist is a measurement, never a candidate: it is not adopted, not the selection rule's
pick, and not in the candidate table. What it decides was written down here before it trained
(2026-11-29, with no finding of it computed), by SR quality on the test split alone, the JPEG mark's
own measure (target − baseline PSNR on JPEG inputs at quality 30):

- below +0.5 dB, with its JPEG validation plateaued (under 0.05 dB gained over its last fifth): the
  mark is beyond what this network learns about JPEG from the embedded training split, whatever the
  mix; no sixth wider-mix candidate is trained to chase it, and issue 12's embedded wider-mix target
  is reported as blocked by the data, with these numbers. The three-way study stays on r5, as
  published.
- +0.5 dB or more: the mix holds JPEG back; a sixth candidate is defined from this measurement and
  r5's before it trains (a larger JPEG share), and judged by the same rule and marks.
- below +0.5 dB without a plateau: it is continued (a warm restart) before anything is decided.

    python benchmarks/jpeg_ceiling.py train      # faig train; interrupt and rerun to resume
    python benchmarks/jpeg_ceiling.py measure    # prints and writes benchmarks/results/jpeg_ceiling.json
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from paper_regime import (PLATEAU_DB, candidate_configs, candidate_weights, output_measures,  # noqa: E402
                          plateau_gain, test_psnr, train_stage)

from faig.data.degradations import VARIANTS, DegradationSampler  # noqa: E402
from faig.evaluate import BLIND_SR_MARKS  # noqa: E402
from faig.files import write_json  # noqa: E402
from faig.training.config import TrainConfig  # noqa: E402
from faig.training.trainer import default_name, finished_metrics  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).parent / "jpeg_ceiling"
RESULTS = Path(__file__).parent / "results" / "jpeg_ceiling.json"
REFERENCE = "srresnet_jpeg_r5"  # the recipe it shares everything with but the mix
STEPS = 10_000


def specialist_config() -> TrainConfig:
    """r5's target stage with every patch compressed at quality 30, and nothing else, for ``STEPS``."""
    return replace(candidate_configs(REFERENCE)["target"], steps=STEPS,
                   degradations=DegradationSampler(scale=2, jpeg_prob=1.0, jpeg_qualities=(30,)))


def baseline_weights() -> Path:
    """The shared baseline every wider-mix target was fine-tuned from."""
    return candidate_weights(REFERENCE)["baseline"]


def train_specialist(device: str | None) -> None:
    """``faig train`` the specialist from the shared baseline, resuming its checkpoint if it has one."""
    config = specialist_config()
    stem = default_name(config)
    if finished_metrics(HERE, stem, config) is not None:
        print(f"{HERE / stem}.safetensors: finished")
        return
    write_json(HERE / f"{stem}.config.json", config.to_dict())
    train_stage(HERE, stem, baseline_weights(), device)


def verdict(jpeg_gain: float, plateau: float | None) -> str:
    """The decision written down in this module's docstring before the specialist trained.

    Example:
        >>> verdict(0.31, 0.01)
        'below the mark, plateaued: the mark is out of reach on the embedded training split'
    """
    mark = BLIND_SR_MARKS["jpeg"]
    if jpeg_gain >= mark:
        return "at or above the mark: the mix holds JPEG back; define a sixth candidate"
    if plateau is None or plateau >= PLATEAU_DB:
        return "below the mark, not plateaued: continue it before deciding"
    return "below the mark, plateaued: the mark is out of reach on the embedded training split"


def measure() -> dict:
    """Test-split PSNRs (the four variants and JPEG), JPEG's luma/chroma split and detail kept, of the
    baseline, the specialist and r5's target; the specialist's plateau test and the verdict."""
    config = specialist_config()
    stem = default_name(config)
    weights = {"baseline": baseline_weights(), "specialist": HERE / f"{stem}.safetensors",
               REFERENCE: candidate_weights(REFERENCE)["target"]}
    metrics = finished_metrics(HERE, stem, config)
    if metrics is None:
        sys.exit(f"the specialist has not finished: run `python {Path(__file__).name} train`")
    psnr = test_psnr(weights, VARIANTS + ("jpeg",))
    jpeg_measures = {name: output_measures(path, "jpeg") for name, path in weights.items()}
    gains = {name: {v: round(psnr[name][v] - psnr["baseline"][v], 2) for v in psnr[name]}
             for name in ("specialist", REFERENCE)}
    plateau = plateau_gain(metrics["history"], "jpeg30")
    report = {"config": config.to_dict(),
              "weights": {name: os.path.relpath(path.resolve(), REPO) for name, path in weights.items()},
              "test_psnr": psnr,
              "gain_over_baseline": gains, "jpeg_luma_chroma_detail": jpeg_measures,
              "jpeg_validation_plateau_gain_db": plateau, "jpeg_mark_db": BLIND_SR_MARKS["jpeg"],
              "verdict": verdict(gains["specialist"]["jpeg"], plateau),
              "train_seconds": metrics["train_seconds"]}
    write_json(RESULTS, report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "measure"))
    parser.add_argument("--device")
    args = parser.parse_args()
    if args.command == "train":
        train_specialist(args.device)
        return
    report = measure()
    for name, gain in report["gain_over_baseline"].items():
        print(f"{name:18s} test gain over the baseline: " + ", ".join(f"{v} {g:+.2f}" for v, g in gain.items()))
    for name, split in report["jpeg_luma_chroma_detail"].items():
        print(f"{name:18s} on JPEG inputs: " + ", ".join(f"{k} {v}" for k, v in split.items()))
    print(f"JPEG validation gained {report['jpeg_validation_plateau_gain_db']} dB over the last fifth")
    print(f"verdict: {report['verdict']}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
