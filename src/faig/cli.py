"""The ``faig`` command line: argument parsing only; every command calls one public function."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from faig import __version__
from faig.errors import FaigError
from faig.names import name_list


def _archs(text: str | None) -> tuple[str, ...] | None:
    """The architectures a comma-separated ``--arch`` names (None: the preset's); one that names
    none (``,``) is refused rather than read as "the preset's"."""
    from faig.models.registry import ARCH_REGISTRY, check_arch

    if text is None:
        return None
    archs = tuple(check_arch(name) for name in name_list(text))
    if not archs:
        raise FaigError(f"--arch {text!r} names no architecture; give one or more of "
                        f"{', '.join(ARCH_REGISTRY.names())}, comma-separated")
    return archs


def _mix(text: str | None) -> tuple[str, ...]:
    """The kinds ``--mix`` adds (none without it); one that names none (``,``) is refused rather than
    read as no mix."""
    from faig.data.degradations import MIX_KINDS

    kinds = () if text is None else name_list(text)
    if text is not None and not kinds:
        raise FaigError(f"--mix {text!r} names no kind; give {', '.join(MIX_KINDS)}")
    return kinds


def _cmd_data(args: argparse.Namespace) -> int:
    from faig.data.layout import check_layout_options, write_layout
    from faig.data.splits import load_images

    variants = name_list(args.variants)
    check_layout_options(args.out, args.scale, args.blur_sigma, args.noise_sigma, args.seed, variants)
    images = load_images(args.split, args.hr_dir, scale=12)
    counts = write_layout(images, args.out, args.scale, args.blur_sigma, args.noise_sigma, args.seed, variants)
    for folder, count in counts.items():
        print(f"{Path(args.out) / folder}: {count} images")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from faig.training.trainer import train_stages

    preset_flags = {"--preset": args.preset, "--arch": args.arch, "--stage": args.stage, "--scale": args.scale,
                    "--mix": args.mix, "--seed": args.seed}
    given = [flag for flag, value in preset_flags.items() if value is not None]
    if args.config is not None and given:
        raise FaigError(f"--config describes the whole stage; drop {', '.join(given)}")
    stage = args.stage or "both"
    stages = ("baseline", "target") if stage == "both" else (stage,)
    results = train_stages(args.preset or "embedded", args.arch or "srresnet", args.out, stages, args.scale or 2,
                           args.seed or 0, args.init,
                           args.device, args.hr_dir, args.resume, progress=not args.quiet, steps=args.steps,
                           config_file=args.config, val_dir=args.val_dir, checkpoint_minutes=args.checkpoint_minutes,
                           mix=_mix(args.mix))
    for name, metrics in results.items():
        scores = ", ".join(f"{variant} {psnr:.2f}" for variant, psnr in metrics["final_val_psnr"].items())
        validation = f"validation PSNR {scores} dB" if scores else "not validated (val_every 0)"
        print(f"{name}: {validation}; {metrics['train_seconds']:.0f} s -> {args.out}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from faig.evaluate import evaluate_models, format_table
    from faig.files import check_writable_file, write_text

    if args.out is not None:
        check_writable_file(args.out)
    result = evaluate_models(args.preset, _archs(args.arch), args.model, args.split, args.hr_dir,
                             name_list(args.variants), args.scale, args.seed, args.device, progress=not args.quiet)
    text = json.dumps(result, indent=2)
    if args.out is not None:
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
                            cache=not args.no_cache, progress=not args.quiet, groups=args.group or ())
    for method, result in results.items():
        print(f"{method}: {', '.join(result.rankings)} rankings of {result.index.total} filters -> "
              f"{Path(args.out) / method}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from faig.reproduce import reproduce

    results = reproduce(args.preset, _archs(args.arch), args.out, quick=args.quick, seeds=args.seeds,
                        retrain_steps=args.retrain_steps, retrain_seeds=args.retrain_seeds,
                        prediction_seeds=args.prediction_seeds, weights=_reproduce_weights(args), device=args.device,
                        progress=not args.quiet,
                        folders={split: getattr(args, f"{split}_dir") for split in ("train", "discover", "calibrate",
                                                                                      "test")},
                        degradations=name_list(args.degradations), level_study=not args.no_level_study)
    print(f"{results.holding()} of {len(results.findings)} findings hold; report: {Path(args.out) / 'report.html'} "
          f"(also report.md, results.json, figures/)")
    return 0


def _shard(text: str | None) -> tuple[int, int] | None:
    """``--shard i/n`` as (i, n)."""
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise FaigError(f"--shard takes i/n, e.g. 0/4, not {text!r}") from None
    return index, count


def _reproduce_weights(args: argparse.Namespace) -> str | tuple[str, str] | None:
    """``--weights DIR`` or the ``--baseline B --target T`` pair (never both, never half a pair)."""
    if (args.baseline is None) != (args.target is None):
        raise FaigError("give both --baseline and --target")
    if args.baseline is not None and args.weights is not None:
        raise FaigError("give either --weights or --baseline/--target, not both")
    return (args.baseline, args.target) if args.baseline is not None else args.weights


def _cmd_branches(args: argparse.Namespace) -> int:
    from faig.experiments.branches import format_branches, run_branches
    from faig.report.branches import write_branches_report

    result = run_branches(args.out, quick=args.quick, seeds=args.seeds, device=args.device,
                          progress=not args.quiet, steps=args.steps, shard=_shard(args.shard))
    if args.shard:
        print(f"shard {args.shard}: trained {len(result['trained'])} networks into {Path(args.out) / 'runs'}; "
              f"a run without --shard makes the table")
        return 0
    written = write_branches_report(result, args.out)
    print(format_branches(result))
    print(f"table: {Path(args.out) / 'branches.json'}; figure: {written['figure']}; report: {written['markdown']} "
          f"and {written['html']}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from faig.models.export import export_basicsr

    print(f"wrote {export_basicsr(args.weights, args.out)} (params_ema and params, in the network's key order)")
    return 0


def _cmd_modulate(args: argparse.Namespace) -> int:
    from faig.experiments.modulation import modulate_image

    written = modulate_image(args.image, args.degradation, args.strength, args.out, preset=args.preset,
                             arch=args.arch, baseline=args.baseline, target=args.target, filters=args.filters,
                             percent=args.percent, device=args.device, cache_dir=args.cache_dir,
                             progress=not args.quiet)
    print(f"wrote {written}")
    return 0


def _model_source(command: argparse.ArgumentParser) -> None:
    command.add_argument("--preset", default="embedded", help="use the preset's committed baseline and target")
    command.add_argument("--arch", default="srresnet", help="the preset's architecture to use without --baseline/--target")
    command.add_argument("--baseline", help="baseline checkpoint (.safetensors or BasicSR .pth)")
    command.add_argument("--target", help="target checkpoint (.safetensors or BasicSR .pth)")
    command.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    command.add_argument("--quiet", action="store_true", help="no progress bars")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` ends each option's help with its default, unless there is none to show (None, or
    a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """An argument parser with :class:`_HelpFormatter`; ``add_subparsers`` makes every sub-command's
    parser of this class too, so all of them show their defaults."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The ``faig`` parser: one sub-command per step of the paper, each bound to its runner (``args.run``)."""
    parser = _Parser(prog="faig", description="Find, test and use the filters a blind super-resolution network "
                                              "learned for each degradation (FAIG, NeurIPS 2021).")
    parser.add_argument("--version", action="version", version=f"faig {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="write an HR set and its clean/blur/noise/blur+noise LR variants "
                                            "as PNG folders in the official layout")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--split", default="test", help="embedded split (train, discover, calibrate, test)")
    source.add_argument("--hr-dir", help="a folder of HR images instead of an embedded split")
    data.add_argument("--out", required=True, help="output folder (GTmod12/, LRbicx2/, Blur2_LRbicx2/, ...)")
    data.add_argument("--scale", type=int, default=2, choices=(2, 3, 4), help="downsampling factor")
    data.add_argument("--blur-sigma", type=float, default=2.0, help="Gaussian blur sigma in HR pixels (> 0)")
    data.add_argument("--noise-sigma", type=float, default=0.1, help="Gaussian noise sigma on the [0, 1] scale (> 0)")
    data.add_argument("--seed", type=int, default=0, help="noise seed (each image also gets its own)")
    data.add_argument("--variants", default="clean,blur,noise,blur+noise",
                      help="comma-separated variants: clean, or blur/noise/jpeg with optional levels joined by + "
                           "(e.g. blur1,noise0.05,jpeg30,blur+jpeg); a bare blur/noise takes --blur-sigma/--noise-sigma")
    data.set_defaults(run=_cmd_data)

    train = commands.add_parser("train", help="train the baseline (downsampling only) and/or fine-tune the "
                                              "blind target network")
    train.add_argument("--preset", help="embedded (2-core CPU; the default) or paper (official configs)")
    train.add_argument("--arch", help="srresnet (the default), srcnn_style or swinir (embedded only)")
    train.add_argument("--stage", choices=("baseline", "target", "both"), help="what to train (default: both)")
    train.add_argument("--out", default="runs/train", help="folder for weights, configs, metrics, checkpoints")
    train.add_argument("--init", help="weights the target is fine-tuned from (default: OUT/<arch>_baseline); "
                                      "with the baseline stage alone, weights it restarts from (default: scratch)")
    train.add_argument("--steps", type=int, help="override the preset's number of steps")
    train.add_argument("--hr-dir", help="train on this folder of HR images instead of the embedded train split")
    train.add_argument("--scale", type=int, choices=(2, 3, 4), help="upscaling factor (default: 2)")
    train.add_argument("--mix", help="kinds the target's blind mix adds to blur and noise (jpeg: quality 30, p 0.5; "
                                     "srresnet's as faig.training.config.WIDER_MIX_TARGET sets); written as "
                                     "<arch>_target_jpeg")
    train.add_argument("--seed", type=int, help="seed of the initial weights and the batches (default: 0)")
    train.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    train.add_argument("--config", help="train the one stage this TrainConfig JSON describes (a saved "
                                        "<name>.json works) instead of a preset's; it replaces --preset, "
                                        "--arch, --stage, --scale, --mix and --seed")
    train.add_argument("--val-dir", help="validate on this folder of HR images (default: the embedded "
                                         "discover split)")
    train.add_argument("--checkpoint-minutes", type=float, default=10.0,
                       help="also write a resumable checkpoint this often (wall time; >= 0)")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints (an error if "
                                                             "there is none); SIGINT/SIGTERM save one")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_cmd_train)

    evaluate = commands.add_parser("eval", help="PSNR/SSIM of models on a split's degradation variants")
    evaluate.add_argument("--preset", default="embedded", help="evaluate the preset's baseline and target")
    evaluate.add_argument("--arch", help="comma-separated architectures (default: the preset's)")
    evaluate.add_argument("--model", action="append",
                          help="evaluate this checkpoint instead (repeatable; each is named by its file stem, with "
                               "the folders that tell it from the others)")
    where = evaluate.add_mutually_exclusive_group()
    where.add_argument("--split", default="test", help="embedded split (train, discover, calibrate, test)")
    where.add_argument("--hr-dir", help="folder of HR images, or an official-layout folder with GTmod12/")
    evaluate.add_argument("--variants", default="clean,blur,noise,blur+noise",
                          help="comma-separated degradation variants")
    evaluate.add_argument("--scale", type=int, default=2, choices=(2, 3, 4), help="upscaling factor")
    evaluate.add_argument("--seed", type=int, default=0, help="noise seed of the synthesised inputs")
    evaluate.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--out", help="also write the JSON to this file")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
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
    attribute.add_argument("--steps", type=int, help="quadrature nodes along the path, >= 1 (>= 2 for "
                                                      "riemann_trapezoid; default: 16, 100 or 101 by rule)")
    attribute.add_argument("--no-elimination", action="store_true",
                           help="Eq. 6 averaged over the images, without Eq. 7's ~D term (the ablation)")
    attribute.add_argument("--abs-plain", action="store_true",
                           help="abs: the plain sum of |θ − θ̄| instead of the official normalisation")
    attribute.add_argument("--seed", type=int, default=0, help="noise seed of the inputs (and of random)")
    attribute.add_argument("--memory-mb", type=float, help="memory budget for batching the path steps (> 0)")
    attribute.add_argument("--no-cache", action="store_true", help="do not keep per-image results for resuming")
    attribute.add_argument("--group", help="also rank larger units, comma-separated: output_channel (a layer's "
                                           "output channels), head (an attention network's heads): units_<group>.csv")
    attribute.add_argument("--out", required=True, help="output folder: OUT/<method>/...")
    attribute.set_defaults(run=_cmd_attribute)

    reproduce = commands.add_parser("reproduce", help="run the paper's experiments and write the report")
    reproduce.add_argument("--preset", default="embedded", help="embedded (committed weights) or paper")
    reproduce.add_argument("--arch", help="comma-separated architectures (default: those the preset ships weights "
                                          "for)")
    reproduce.add_argument("--out", default="faig-reproduce", help="output folder")
    reproduce.add_argument("--quick", action="store_true", help="a smoke test of every step in minutes (fewer images, "
                                                                "steps and percentages, one seed), not the paper's protocol")
    reproduce.add_argument("--degradations", default="blur,noise",
                           help="whose filters to find, one against the rest (N-way Eq. 7 and Eq. 8): e.g. "
                                "blur,noise,jpeg, which reads a target fine-tuned on that mix (<arch>_target_jpeg; "
                                "fine-tuned here from the shipped baseline when the preset has none)")
    reproduce.add_argument("--no-level-study", action="store_true",
                           help="skip the level study (each degradation's kind at three levels; beyond the paper)")
    reproduce.add_argument("--seeds", type=int, help="number of seeds (default 3; 1 with --quick)")
    reproduce.add_argument("--retrain-steps", type=int, help="steps of each selective re-training run")
    reproduce.add_argument("--retrain-seeds", type=int, help="seeds for re-training (default 1; the paper's: 3)")
    reproduce.add_argument("--prediction-seeds", type=int, help="seeds for degradation prediction (default 1)")
    reproduce.add_argument("--weights", help="folder of <arch>_{baseline,target}.safetensors to analyse")
    reproduce.add_argument("--baseline", help="a baseline checkpoint of any registered architecture (.safetensors or "
                                              "BasicSR .pth) to analyse with --target; --arch defaults to its own")
    reproduce.add_argument("--target", help="the target checkpoint fine-tuned from --baseline")
    for split, role in (("train", "DIV2K-train: re-training (and training, when the preset ships no weights)"),
                        ("discover", "Set14: where filters are found"), ("calibrate", "BSD100: Eq. 8's thresholds"),
                        ("test", "DIV2K-val: evaluation and prediction")):
        reproduce.add_argument(f"--{split}-dir", help=f"a folder of HR images (or an official layout with GTmod12/) "
                                                      f"in the {split} split's role, the paper's {role}")
    reproduce.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bars or progress sentences")
    reproduce.set_defaults(run=_cmd_reproduce)

    modulate = commands.add_parser("modulate", help="turn one degradation's restoration up or down on an image")
    modulate.add_argument("image", help="the LR image to super-resolve")
    modulate.add_argument("--degradation", required=True,
                          help="blur, noise, or jpeg (on the target fine-tuned on blur, noise and JPEG)")
    modulate.add_argument("--lambda", dest="strength", type=float, required=True,
                          help="0 removes that restoration, 1 is the target, above 1 strengthens it")
    _model_source(modulate)
    modulate.add_argument("--filters", help="an official <degradation>_index.txt ranking to use")
    modulate.add_argument("--percent", type=float, default=1.0, help="share of filters modulated")
    modulate.add_argument("--out", default="modulated.png")
    modulate.add_argument("--cache-dir", help="where the filters found without --filters are kept "
                                              "(default: $XDG_CACHE_HOME/faig or ~/.cache/faig)")
    modulate.set_defaults(run=_cmd_modulate)
    export = commands.add_parser("export", help="write weights as a BasicSR .pth (params_ema, params) in the "
                                                "network's own key order, as BasicSR and the official scripts read")
    export.add_argument("weights", help="a faig .safetensors file (or any checkpoint faig reads)")
    export.add_argument("--out", required=True, help="the .pth to write")
    export.set_defaults(run=_cmd_export)
    branches = commands.add_parser("branches", help="Sec. 3, Table 1 and Fig. 1: two-branch blind-SR networks "
                                                    "(DAN-, DASR-style) against one-branch SRResNets of equal FLOPs")
    branches.add_argument("--out", default="faig-branches",
                          help="output folder (branches.json, figures/, runs/); the same command continues an "
                               "interrupted run, a training in progress from runs/checkpoints/")
    branches.add_argument("--quick", action="store_true", help="a smoke test: 20 steps, one seed, 7 test images")
    branches.add_argument("--seeds", type=int, help="training seeds per network (default 3; 1 with --quick)")
    branches.add_argument("--steps", type=int, help="training steps of every network")
    branches.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    branches.add_argument("--quiet", action="store_true", help="no progress bars")
    branches.add_argument("--shard", help="i/n: train only every n-th network, starting at the i-th, into OUT/runs "
                                          "(n processes can share a GPU); a run without it then makes the table")
    branches.set_defaults(run=_cmd_branches)
    return parser


def os_error_words(error: OSError) -> str:
    """An operating-system error as words and the path it concerns, e.g. "permission denied: /x/y"."""
    words = error.strerror.lower() if error.strerror else str(error) or "operating system error"
    return f"{words}: {error.filename}" if error.filename else words


class _Terminated(BaseException):
    """SIGTERM, raised where the command is so that its cleanup runs (no half-written temporary
    file is left behind); a BaseException so that no ``except Exception`` swallows it."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


# Control characters as Python escapes (a newline as \n): a path holding one still gives a one-line error.
_ESCAPES = {code: repr(chr(code))[1:-1] for code in (*range(32), 127)}


def _one_line(message: str) -> str:
    r"""``message`` with its control characters written as escapes.

    Example:
        >>> _one_line("checkpoint not found: a\nb.pth")
        'checkpoint not found: a\\nb.pth'
    """
    return message.translate(_ESCAPES)


def main(argv: list[str] | None = None) -> int:
    """Run ``faig`` with ``argv`` (default: the command line); a FaigError or OS error becomes one line
    on stderr and exit status 1 (Ctrl-C: 130, SIGTERM: 143), never a traceback."""
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        return args.run(args)
    except _Terminated:
        print("faig: terminated", file=sys.stderr)
        return 143
    except FaigError as error:
        print(f"faig: error: {_one_line(str(error))}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"faig: error: {_one_line(os_error_words(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("faig: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
