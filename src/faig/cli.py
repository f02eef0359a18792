"""The ``faig`` command line: argument parsing only; every command calls one public function."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from faig import __version__
from faig.errors import FaigError

DEFAULT_ARCHS = "srresnet,srcnn_style"


def _archs(text: str) -> tuple[str, ...]:
    from faig.models.registry import check_arch

    return tuple(check_arch(name.strip()) for name in text.split(",") if name.strip())


def _cmd_data(args: argparse.Namespace) -> int:
    from faig.data.layout import write_layout
    from faig.data.splits import load_images

    images = load_images(args.split, args.hr_dir, scale=12)
    counts = write_layout(images, args.out, args.scale, args.blur_sigma, args.noise_sigma, args.seed)
    for folder, count in counts.items():
        print(f"{Path(args.out) / folder}: {count} images")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from faig.training.trainer import train_stages

    stages = ("baseline", "target") if args.stage == "both" else (args.stage,)
    results = train_stages(args.preset, args.arch, args.out, stages, args.scale, args.seed, args.init,
                           args.device, args.hr_dir, args.resume, progress=not args.quiet, steps=args.steps,
                           config_file=args.config, val_dir=args.val_dir, checkpoint_minutes=args.checkpoint_minutes)
    for stage, metrics in results.items():
        scores = ", ".join(f"{variant} {psnr:.2f}" for variant, psnr in metrics["final_val_psnr"].items())
        print(f"{stage}: validation PSNR {scores} dB; {metrics['train_seconds']:.0f} s -> {args.out}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from faig.evaluate import evaluate_models, format_table

    result = evaluate_models(args.preset, _archs(args.arch), args.model, args.split, args.hr_dir,
                             tuple(args.variants.split(",")), args.scale, args.seed, args.device)
    text = json.dumps(result, indent=2)
    if args.out:
        from faig.files import write_text

        write_text(args.out, text + "\n")
    print(text if args.json else format_table(result))
    return 0


def _cmd_attribute(args: argparse.Namespace) -> int:
    from faig.attribution import run_attribute

    results = run_attribute(args.out, args.method, preset=args.preset, arch=args.arch, baseline=args.baseline,
                            target=args.target, hr_dir=args.hr_dir, split=args.split,
                            degradations=args.degradations, quadrature=args.quadrature, steps=args.steps,
                            elimination=False if args.no_elimination else None, normalise=not args.abs_plain,
                            seed=args.seed, device=args.device, memory_mb=args.memory_mb,
                            cache=not args.no_cache, progress=not args.quiet)
    for method, result in results.items():
        print(f"{method}: {', '.join(result.rankings)} rankings of {result.index.total} filters -> "
              f"{Path(args.out) / method}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from faig.pipeline import reproduce

    reproduce(args.preset, _archs(args.arch), args.out, quick=args.quick, seeds=args.seeds,
              retrain_steps=args.retrain_steps, retrain_seeds=args.retrain_seeds,
              prediction_seeds=args.prediction_seeds, weights=args.weights, device=args.device,
              progress=not args.quiet)
    print(f"report: {Path(args.out) / 'report.html'} (also report.md, results.json, figures/)")
    return 0


def _cmd_modulate(args: argparse.Namespace) -> int:
    from faig.pipeline import modulate_image

    written = modulate_image(args.image, args.degradation, args.strength, args.out, preset=args.preset,
                             arch=args.arch, baseline=args.baseline, target=args.target, filters=args.filters,
                             percent=args.percent, device=args.device, progress=not args.quiet)
    print(f"wrote {written}")
    return 0


def _model_source(command: argparse.ArgumentParser) -> None:
    command.add_argument("--preset", default="embedded", help="use the preset's committed baseline and target")
    command.add_argument("--arch", default="srresnet", help="srresnet or srcnn_style")
    command.add_argument("--baseline", help="baseline checkpoint (.safetensors or BasicSR .pth)")
    command.add_argument("--target", help="target checkpoint (.safetensors or BasicSR .pth)")
    command.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    command.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faig", description="Find, test and use the filters a blind "
                                     "super-resolution network learned for each degradation (FAIG, NeurIPS 2021).")
    parser.add_argument("--version", action="version", version=f"faig {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="write an HR set and its clean/blur/noise/blur+noise LR variants "
                                            "as PNG folders in the official layout")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--split", default="test", help="embedded split (train, discover, calibrate, test)")
    source.add_argument("--hr-dir", help="a folder of HR images instead of an embedded split")
    data.add_argument("--out", required=True, help="output folder (GTmod12/, LRbicx2/, Blur2_LRbicx2/, ...)")
    data.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    data.add_argument("--blur-sigma", type=float, default=2.0)
    data.add_argument("--noise-sigma", type=float, default=0.1)
    data.add_argument("--seed", type=int, default=0)
    data.set_defaults(run=_cmd_data)

    train = commands.add_parser("train", help="train the baseline (downsampling only) and/or fine-tune the "
                                              "blind target network")
    train.add_argument("--preset", default="embedded", help="embedded (2-core CPU) or paper (official configs)")
    train.add_argument("--arch", default="srresnet", help="srresnet or srcnn_style")
    train.add_argument("--stage", default="both", choices=("baseline", "target", "both"))
    train.add_argument("--out", default="runs/train", help="folder for weights, configs, metrics, checkpoints")
    train.add_argument("--init", help="weights the target is fine-tuned from (default: OUT/<arch>_baseline)")
    train.add_argument("--steps", type=int, help="override the preset's number of steps")
    train.add_argument("--hr-dir", help="train on this folder of HR images instead of the embedded train split")
    train.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    train.add_argument("--config", help="train the one stage this TrainConfig JSON describes (a saved "
                                        "<name>.json works) instead of a preset's")
    train.add_argument("--val-dir", help="validate on this folder of HR images (default: the embedded "
                                         "discover split)")
    train.add_argument("--checkpoint-minutes", type=float, default=10.0,
                       help="also write a resumable checkpoint this often (wall time)")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints (an error if "
                                                             "there is none); SIGINT/SIGTERM save one")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_cmd_train)

    evaluate = commands.add_parser("eval", help="PSNR/SSIM of models on a split's degradation variants")
    evaluate.add_argument("--preset", default="embedded", help="evaluate the preset's baseline and target")
    evaluate.add_argument("--arch", default=DEFAULT_ARCHS, help="comma-separated architectures")
    evaluate.add_argument("--model", action="append", help="evaluate this checkpoint instead (repeatable)")
    where = evaluate.add_mutually_exclusive_group()
    where.add_argument("--split", default="test")
    where.add_argument("--hr-dir", help="folder of HR images, or an official-layout folder with GTmod12/")
    evaluate.add_argument("--variants", default="clean,blur,noise,blur+noise")
    evaluate.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--device")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--out", help="also write the JSON to this file")
    evaluate.set_defaults(run=_cmd_eval)

    attribute = commands.add_parser("attribute", help="score every filter per degradation (FAIG Eq. 5-7, or the "
                                                      "ig/abs/random baselines) and write rankings")
    attribute.add_argument("--method", default="faig", help="comma-separated: faig, ig, abs, random")
    _model_source(attribute)
    images = attribute.add_mutually_exclusive_group()
    images.add_argument("--split", default="discover", help="embedded split whose images find the filters")
    images.add_argument("--hr-dir", help="folder of HR images (or official layout) instead")
    attribute.add_argument("--degradations", default="blur,noise", help="comma-separated variant names")
    attribute.add_argument("--quadrature", default="gausslegendre",
                           help="gausslegendre, riemann_left (the paper's) or riemann_trapezoid")
    attribute.add_argument("--steps", type=int, help="quadrature nodes along the path")
    attribute.add_argument("--no-elimination", action="store_true",
                           help="Eq. 6 averaged over the images, without Eq. 7's ~D term (the ablation)")
    attribute.add_argument("--abs-plain", action="store_true",
                           help="abs: the plain sum of |θ − θ̄| instead of the official normalisation")
    attribute.add_argument("--seed", type=int, default=0)
    attribute.add_argument("--memory-mb", type=float, help="memory budget for batching the path steps")
    attribute.add_argument("--no-cache", action="store_true", help="do not keep per-image results for resuming")
    attribute.add_argument("--out", required=True, help="output folder: OUT/<method>/...")
    attribute.set_defaults(run=_cmd_attribute)

    reproduce = commands.add_parser("reproduce", help="run the paper's experiments and write the report")
    reproduce.add_argument("--preset", default="embedded")
    reproduce.add_argument("--arch", default=DEFAULT_ARCHS, help="comma-separated architectures")
    reproduce.add_argument("--out", default="faig-reproduce", help="output folder")
    reproduce.add_argument("--quick", action="store_true", help="fewer images, steps and percentages, one seed")
    reproduce.add_argument("--seeds", type=int, help="number of seeds (default 3; 1 with --quick)")
    reproduce.add_argument("--retrain-steps", type=int, help="steps of each selective re-training run")
    reproduce.add_argument("--retrain-seeds", type=int, help="seeds for re-training (default 1; the paper's: 3)")
    reproduce.add_argument("--prediction-seeds", type=int, help="seeds for degradation prediction (default 1)")
    reproduce.add_argument("--weights", help="folder of <arch>_{baseline,target}.safetensors to analyse")
    reproduce.add_argument("--device")
    reproduce.add_argument("--quiet", action="store_true")
    reproduce.set_defaults(run=_cmd_reproduce)

    modulate = commands.add_parser("modulate", help="turn one degradation's restoration up or down on an image")
    modulate.add_argument("image", help="the LR image to super-resolve")
    modulate.add_argument("--degradation", required=True, help="blur or noise")
    modulate.add_argument("--lambda", dest="strength", type=float, required=True,
                          help="0 removes that restoration, 1 is the target, above 1 strengthens it")
    _model_source(modulate)
    modulate.add_argument("--filters", help="an official <degradation>_index.txt ranking to use")
    modulate.add_argument("--percent", type=float, default=1.0, help="share of filters modulated")
    modulate.add_argument("--out", default="modulated.png")
    modulate.set_defaults(run=_cmd_modulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FaigError as error:
        print(f"faig: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"faig: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("faig: interrupted", file=sys.stderr)
        return 130
