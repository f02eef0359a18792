"""The report's text and tables, from the typed results (:mod:`faig.results`) and the
figures' paths; the paper's numbers (Table 2, Table 3, Sec. 5.3) beside ours."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from faig.names import METHODS, function_label, input_label, method_label, task_label
from faig.report.blocks import Block, Figure, Heading, Paragraph, Table, Verdict
from faig.results import Results, Stat

# The paper's SRResNet numbers on Set14 (Table 2: x 1e-3, mean ± std over three seeds; Table 3: dB).
PAPER_TABLE2 = {
    "1": {"blur": {"faig": "6.68 ± 0.63", "ig": "4.31 ± 1.54", "abs": "0.18 ± 0.13", "random": "0.07 ± 0.01"},
          "noise": {"faig": "6.62 ± 0.54", "ig": "4.22 ± 0.44", "abs": "0.49 ± 0.10", "random": "0.04 ± 0.01"}},
    "5": {"blur": {"faig": "7.53 ± 0.24", "ig": "6.41 ± 0.88", "abs": "2.16 ± 0.61", "random": "0.55 ± 0.32"},
          "noise": {"faig": "16.28 ± 3.84", "ig": "8.01 ± 1.04", "abs": "3.25 ± 1.85", "random": "0.19 ± 0.05"}},
}
PAPER_TABLE3 = {
    "blur": ["29.203 ± 0.021", "27.889 ± 0.207", "26.389 ± 0.274", "26.444 ± 0.097", "26.691 ± 0.092",
             "27.642 ± 0.007", "26.534 ± 0.125", "26.444 ± 0.096", "26.668 ± 0.126"],
    "noise": ["26.712 ± 0.008", "25.268 ± 0.035", "25.211 ± 0.005", "25.288 ± 0.044", "25.239 ± 0.034",
              "25.743 ± 0.033", "25.141 ± 0.116", "25.275 ± 0.035", "25.204 ± 0.016"],
}
PAPER_PREDICTION = {"blur": {"threshold": 0.5, "accuracy": 0.96}, "noise": {"threshold": 0.6, "accuracy": 0.98}}


def pm(entry: Stat, digits: int = 2) -> str:
    """A table cell's mean ± std with ``digits`` decimals (e.g. ``1.94 ± 0.12``)."""
    return f"{entry['mean']:.{digits}f} ± {entry['std']:.{digits}f}"


def spread_text(kind: str) -> str:
    """What a ± of ``kind`` (``seeds`` or ``images``) is the standard deviation of, in words."""
    return "the standard deviation over seeds (of each seed's mean over the images)" if kind == "seeds" \
        else "the standard deviation over the images (one seed)"


def mode_name(results: Results) -> str:
    """``quick: a smoke test, not the paper's protocol`` or ``full: the paper's protocol``."""
    return "quick: a smoke test, not the paper's protocol" if results.quick else \
        "full: the paper's protocol at this project's scale"


def mode_text(results: Results) -> str:
    """What the run's mode means for its verdicts."""
    config, retrain = results.config, results.config["retrain"]
    budget = (f"{config['discover_images'] or 'all'} discover images, {config['steps']} quadrature nodes, "
              f"{retrain['steps']} re-training steps (batch {retrain['batch_size']}), {config['seeds']} "
              f"seed{'s' if config['seeds'] > 1 else ''}")
    if results.quick:
        return (f"Mode: quick, a smoke test, not the paper's protocol ({budget}). It shows that every step runs "
                f"and writes its results; its verdicts neither confirm nor refute the paper. "
                f"`faig reproduce` without `--quick` runs the full protocol.")
    return (f"Mode: full, the paper's protocol at this project's scale ({budget}); the verdicts below judge the "
            f"paper's claims on these models.")


def headline(results: Results) -> Heading:
    """``8 of 22 findings hold (srresnet: 4 of 11, srcnn_style: 4 of 11)``."""
    per_arch = [f"{arch}: {sum(f['holds'] for f in results.findings if f['arch'] == arch)} of "
                f"{sum(f['arch'] == arch for f in results.findings)}" for arch in results.archs]
    return Heading(f"{results.holding()} of {len(results.findings)} findings hold ({', '.join(per_arch)})")


def overview(results: Results) -> list[Block]:
    """The run's preset, models, seeds, meaning of ± and budget (nodes, re-training steps), as paragraphs."""
    config = results.config
    retrain = config["retrain"]
    trained = [arch for arch, flag in config["models_trained_here"].items() if flag]
    source = config.get("models_source", "the preset's committed weights")  # results.json from before it was kept
    models = (f"trained in this run ({', '.join(trained)}), one pair per seed" if trained
              else f"{source}, the same for every seed")
    return [
        Paragraph(f"Preset `{config['preset']}`, architectures {', '.join(config['archs'])}. Models: {models}. "
                  f"Rerun with `{config['command']}`."),
        Paragraph(f"Seeds: {config['seeds']} for model scores, attribution, masking, ablation, modulation and "
                  f"filter distribution; {config['retrain_seeds']} for re-training; {config['prediction_seeds']} "
                  f"for degradation prediction. A seed changes every random choice: the noise of the degraded "
                  f"inputs, the random baseline's filters, the re-training runs' data and initial order, and the "
                  f"training itself when the run trains the models."
                  + ("" if trained else " Here the models are the same in every seed, and inputs without noise "
                     "(blurry, JPEG) are identical across seeds: a ± over seeds measures the noise draws and the "
                     "random filters, not independently trained networks.")),
        Paragraph(f"What ± means: masking and ablation: {spread_text(results.spread['masking'])}; "
                  f"re-training (Table 3): {spread_text(results.spread['retrain'])}, which swamps the 0.03-0.2 dB "
                  f"differences between re-training runs, so the re-training finding is judged with the paired "
                  f"per-image difference between the two runs (same images, task and seed) and states its spread; "
                  f"prediction: the binomial standard error of an accuracy."),
        Paragraph(f"Budget: attribution uses {config['quadrature']} quadrature with {config['steps']} nodes "
                  f"(the paper: 100 left-Riemann steps), prediction {config['prediction_steps']} nodes per input; "
                  f"every re-training run takes {retrain['steps']} steps (batch {retrain['batch_size']}, "
                  f"{retrain['gt_size']}px patches, lr {retrain['lr']:g}); the paper re-trains for far longer and "
                  f"reports three seeds. `--retrain-steps N`, `--retrain-seeds 3` and `--prediction-seeds 3` "
                  f"restore the full protocol at a proportional cost (see the timing table)."),
    ]


def findings_table(results: Results) -> Table:
    """The report's first table: each of the paper's claims on each architecture, measured and judged."""
    rows = [[f["arch"], f["claim"], f["section"], f["measured"], f["spread"], Verdict(f["holds"])]
            for f in results.findings]
    caption = (f"Findings of this quick run (a smoke test, not the paper's protocol): {results.holding()} of "
               f"{len(results.findings)} hold" if results.quick else
               f"Findings: the paper's claims on these models, {results.holding()} of {len(results.findings)} hold")
    return Table(["arch", "expectation", "paper", "measured", "spread behind it", "verdict"], rows, caption)


def models_table(results: Results) -> Table:
    """Test-split PSNR of bicubic and of every baseline and target on each input variant (the blind-SR effect)."""
    first = next(iter(results.archs.values()))
    variants = list(first.models["bicubic"])
    rows = [["bicubic"] + [f"{first.psnr('bicubic', v):.2f}" for v in variants]]
    rows += [[f"{arch} {stage}"] + [f"{entry.psnr(stage, v):.2f}" for v in variants]
             for arch, entry in results.archs.items() for stage in ("baseline", "target")]
    return Table(["model", *variants], rows, "PSNR (dB) on the test split")


def table2(results: Results, arch: str) -> Table:
    """Table 2 of the paper (Sec. 5.2.1): gradient MSE after masking each method's filters for the
    input's own degradation, at each percentage, in faig's luma metric and the official blue-channel
    one, with the paper's printed numbers beside srresnet's."""
    entry = results.arch(arch)
    percents = [p for p in results.config["table_percents"] if entry.has_percent(p)]
    headers = ["input"] + [f"{method_label(m)} {p:g}%" for p in percents for m in METHODS]
    rows = []
    own = "; ".join(f"{function_label(d)} filters for {input_label(d)}s" for d in results.degradations)
    for d in results.degradations:
        name = input_label(d).capitalize()
        rows.append([f"{name} (ours, luma)"] + [pm(entry.drop(m, d, on=d, percent=p)) for p in percents for m in METHODS])
        official = [entry.official_drop(m, d, p) for p in percents for m in METHODS]
        if any(value is not None for value in official):
            rows.append([f"{name} (ours, official metric)"] + [pm(v) if v is not None else "–" for v in official])
        if arch == "srresnet" and d in PAPER_TABLE2["1"]:
            rows.append([f"{name} (paper)"] + [PAPER_TABLE2.get(f"{p:g}", {}).get(d, {}).get(m, "–")
                                               for p in percents for m in METHODS])
    return Table(headers, rows, f"Table 2, {arch}: gradient MSE (×10⁻³) after masking the input's own filters "
                                f"({own}). "
                                f"'luma' measures the gradient of the gray image, as Sec. 5.2.1 says; the official "
                                f"metric is what the official scripts compute and what the paper printed: they read "
                                f"each 8-bit output with cv2.imread(path, cv2.COLOR_BGR2GRAY), whose flag (6) is an "
                                f"imread mode that keeps the BGR colours, and take the gradient of the first, blue, "
                                f"channel, which carries more of the noise and less of the structure than luma")


def cross_table(results: Results, arch: str) -> Table:
    """The masking matrix at 1%: every method's set for every degradation, measured on every input kind."""
    entry = results.arch(arch)
    degradations = results.degradations
    rows = [[f"{method_label(m)}, {function_label(d)} filters"] + [pm(entry.drop(m, d, on=o)) for o in degradations]
            for m in METHODS for d in degradations]
    return Table(["masked 1%"] + [input_label(d).capitalize() for d in degradations], rows,
                 f"{arch}: each filter set on every input kind (×10⁻³), a masking matrix: discriminative filters "
                 f"hurt their own input only")


def table3(results: Results, arch: str) -> Table:
    """Table 3 of the paper (Sec. 5.2.2): test PSNR after re-training only each method's 1% filters
    on each task, with the upper bound (every parameter) and, for srresnet, the paper's row."""
    entry = results.arch(arch)
    degradations = results.degradations
    headers = ["task", "upper bound"] + [f"{method_label(m)}, {function_label(d)} filters" for d in degradations
                                         for m in METHODS]
    rows = []
    for task in degradations:
        upper = entry.upper_bound(task)
        rows.append([f"{task_label(task)} (ours)", f"{upper['psnr']:.3f} ± {upper['std']:.3f}"]
                    + [pm(entry.retrained(m, d, task), 3) for d in degradations for m in METHODS])
        if arch == "srresnet" and degradations == tuple(PAPER_TABLE3):
            rows.append([f"{task_label(task)} (paper)"] + PAPER_TABLE3[task])
    return Table(headers, rows, f"Table 3, {arch}: test PSNR (dB) after re-training only 1% filters of the baseline")


def gain_table(results: Results, arch: str) -> Table:
    """Each method's re-training gain over random 1% filters, paired per test image (dB)."""
    entry = results.arch(arch)
    methods, degradations = [m for m in METHODS if m != "random"], results.degradations
    rows = [[task_label(task)] + [pm(entry.gain_over_random(m, d, task), 3) for d in degradations for m in methods]
            for task in degradations]
    return Table(["task"] + [f"{method_label(m)}, {function_label(d)} filters" for d in degradations for m in methods],
                 rows, f"{arch}: gain over re-training random filters of the same set (dB), paired per test image "
                       f"({spread_text(results.spread['retrain']).replace('the standard deviation', '±')})")


def upper_bound_notes(results: Results) -> list[Block]:
    """A sentence for each architecture whose upper bound (re-training every parameter) lies below a
    1% run, which happens when the runs are too short for a whole network to relearn a task."""
    steps = results.config["retrain"]["steps"]
    notes = []
    for arch, entry in results.archs.items():
        below = [task for task in results.degradations
                 if entry.upper_bound(task)["psnr"] < min(entry.retrained(m, d, task)["mean"]
                                                          for m in METHODS for d in results.degradations)]
        if below:
            low = ", ".join(f"{entry.upper_bound(t)['psnr']:.1f} dB on the {t} task" for t in below)
            longer = ("The full protocol (`faig reproduce` without `--quick`) re-trains for longer." if results.quick
                      else "`--retrain-steps N` re-trains for longer.")
            notes.append(Paragraph(
                f"{arch}: the upper bound ({low}) lies below every 1% run: {steps} steps are too few to re-train "
                f"every parameter. Adam's first steps move all weights of the network away from the baseline "
                f"before it relearns the task, while a 1% run changes a few filters and stays near the baseline. "
                f"{longer}"))
    return notes


def distribution_table(results: Results, arch: str, densities: dict[str, dict[str, float]]) -> Table:
    """Fig. 4 (Sec. 5.2.3) as numbers: each layer's share of the top-1% filters, and the share of
    the layer's own filters that they are."""
    shares, degradations = results.arch(arch).distribution, results.degradations
    layers = list(shares[degradations[0]])
    rows = [[layer] + [f"{100 * shares[d][layer]:.1f}% ({100 * densities[d][layer]:.2f}%)" for d in degradations]
            for layer in layers]
    return Table(["layer (input → output)"] + [f"{function_label(d)} filters" for d in degradations], rows,
                 f"{arch}: share of the top-1% filters per layer (in brackets: share of the layer's own filters)")


def heads_table(results: Results, arch: str) -> Table | None:
    """Beyond the paper, for an attention network: the share of each degradation's top-1% filters
    that sits in each attention head (its query, key and value rows and its output columns)."""
    heads, degradations = results.arch(arch).heads, results.degradations
    labels = list(heads.get(degradations[0], {}))
    if not labels:
        return None
    rows = [[label] + [f"{100 * heads[d][label]:.1f}%" for d in degradations] for label in labels]
    return Table(["attention head"] + [f"{function_label(d)} filters" for d in degradations], rows,
                 f"{arch}: share of the top-1% filters in each attention head (every head holds as many filters; "
                 f"the rest sit in convolutions and MLPs)")


def prediction_variants_table(results: Results) -> Table:
    """Eq. 8's accuracy for each decision (blur? noise? ...) split by the input's true variant."""
    rows = []
    for mode in ("standard", "reference_free"):
        for arch, entry in results.archs.items():
            for d in results.degradations:
                by_variant = entry.prediction_for(mode, d)["accuracy_by_variant"]
                rows.append([f"{arch}, {mode.replace('_', '-')}", d]
                            + [f"{100 * by_variant[v]:.1f}%" for v in by_variant])
    first = next(iter(results.archs.values()))
    variants = list(first.prediction_for("standard", results.degradations[0])["accuracy_by_variant"])
    return Table(["model, mode", "decision"] + variants, rows, "Accuracy of each binary decision by input variant")


def prediction_table(results: Results) -> Table:
    """Eq. 8 (Sec. 4.3, 5.3): each decision's threshold from the calibrate split and its test accuracy,
    standard and reference-free, beside the paper's T_D and accuracy."""
    rows = []
    for arch, entry in results.archs.items():
        for d in results.degradations:
            standard, free = entry.prediction_for("standard", d), entry.prediction_for("reference_free", d)
            paper = PAPER_PREDICTION.get(d)
            rows.append([arch, d, f"{standard['threshold']:.3f}", f"{100 * standard['accuracy']:.1f}%",
                         str(standard["n"]), f"{free['threshold']:.3f}", f"{100 * free['accuracy']:.1f}%",
                         f"{paper['threshold']:g} / {100 * paper['accuracy']:.0f}%" if paper else "–"])
    return Table(["arch", "degradation", "T_D", "accuracy", "test inputs", "reference-free T_D",
                  "reference-free accuracy", "paper T_D / accuracy (SRResNet)"], rows,
                 "Degradation prediction (Eq. 8): thresholds from the calibrate split, accuracy on the test split")


def confusion_table(confusion: dict[str, dict[str, int]], title: str) -> Table:
    """A confusion matrix of Eq. 8's joint prediction: true variant by row, predicted by column."""
    variants = list(confusion)
    rows = [[true] + [str(confusion[true][p]) for p in variants] for true in variants]
    return Table(["true \\ predicted"] + variants, rows, title)


def ablation_table(results: Results, arch: str) -> Table:
    """Fig. 5 (Sec. 5.4) as numbers: the first degradation's 1% set found with and without Eq. 7's
    ∼D term, masked on every input kind."""
    entry = results.arch(arch)
    names = {"with_elimination": "with the ∼D term (Eq. 7)", "without_elimination": "without it (Eq. 6 mean)"}
    first, *others = results.degradations
    rows = [[label] + [pm(entry.ablation_drop(variant, on=d)) for d in results.degradations]
            for variant, label in names.items()]
    return Table([f"1% {function_label(first)} filters found"] + [input_label(d).capitalize()
                                                                  for d in results.degradations], rows,
                 f"{arch}: masking drop (×10⁻³); the {', '.join(input_label(o) for o in others)} column shows "
                 f"whether {' and '.join(function_label(o) for o in others)} survives")


def modulation_table(results: Results, arch: str) -> Table:
    """PSNR and gradient energy of θ_λ against λ for each degradation's 1% filters."""
    curves = results.arch(arch).modulation
    rows = [[f"{points[0]['lambda']:g}"] + [f"{value:.{digits}f}" for point in points
                                             for value, digits in ((point["psnr"], 2), (point["gradient_energy"], 4))]
            for points in zip(*(curves[d] for d in results.degradations))]
    return Table(["λ"] + [f"{input_label(d)}: {column}" for d in results.degradations
                          for column in ("PSNR (dB)", "gradient energy")], rows,
                 f"{arch}: θ_λ on the 1% filters of the input's degradation")


def timing_table(results: Results) -> Table:
    """Seconds each step of the run computed (its cached results' own time)."""
    rows = [[step, f"{seconds:.1f}"] for step, seconds in results.timing.items()]
    return Table(["step", "seconds"], rows, "Time per step (compute time of the cached result, summed over "
                                            "architectures and seeds)")


def section(heading: str, intro: str, blocks: list[Block]) -> list[Block]:
    """A heading, its introduction (none when empty) and its blocks."""
    return [Heading(heading), *([Paragraph(intro)] if intro else []), *blocks]


def masking_section(results: Results, figures: dict[str, dict[str, Path]]) -> list[Block]:
    """Sec. 5.2.1: Table 2, the masking matrix and Fig. 3's curves and images for every architecture."""
    masked = " / ".join(function_label(d) for d in results.degradations)
    images = (f"degraded input, target output, the outputs with 1% {masked} filters masked, and the ground truth; "
              f"PSNR against the ground truth on each panel (the input's: of its bicubic upsampling)")
    return section(
        "Masking discovered filters (Sec. 5.2.1, Fig. 3, Table 2)",
        "The top p% filters of each method are replaced in the target by the baseline's filters at the same place; "
        "the drop is the MSE between the gradient maps of the gray outputs of the target and of the masked network, "
        "on the discover split.",
        [block for arch in results.archs for block in (
            table2(results, arch), cross_table(results, arch),
            Figure(figures[arch]["masking_curves"], f"{arch}: masking drop against the share of masked filters "
                                                    f"(shaded: ± one standard deviation)"),
            Figure(figures[arch]["masking_images"], f"{arch}: {images}"))])


def retrain_section(results: Results) -> list[Block]:
    """Sec. 5.2.2: Table 3 and the gains over random for every architecture."""
    return section(
        "Re-training only the discovered filters (Sec. 5.2.2, Table 3)",
        f"From the baseline, only the chosen 1% filters are trained (every other weight and every bias frozen) on "
        f"data of one degradation ({' or '.join(f'{d}-only' for d in results.degradations)}), with one schedule "
        f"for every row; the upper bound trains every parameter. PSNR on the test split's inputs of the task.",
        [*(table for arch in results.archs for table in (table3(results, arch), gain_table(results, arch))),
         *upper_bound_notes(results)])


def distribution_section(results: Results, figures: dict[str, dict[str, Path]],
                         densities: dict[str, dict[str, dict[str, float]]]) -> list[Block]:
    """Sec. 5.2.3 (Fig. 4): where each degradation's 1% filters sit, per layer (and per attention head),
    as tables and figures for every architecture."""
    captions = {"distribution": "share of the top-1% filters per layer",
                "network": "the discovered 1% filters (yellow), layer by layer"}
    return section("Where the filters sit (Sec. 5.2.3, Fig. 4)", "",
                   [block for arch in results.archs for block in
                    (distribution_table(results, arch, densities[arch]),
                     *[table for table in [heads_table(results, arch)] if table],
                     *(Figure(figures[arch][name], f"{arch}: {caption}") for name, caption in captions.items()))])


def prediction_section(results: Results, figures: dict[str, dict[str, Path]]) -> list[Block]:
    """Sec. 4.3 and 5.3 (Eq. 8): accuracies, per-variant accuracies, confusion matrices and score plots."""
    modes = (("standard", "prediction", "overlap scores of the test inputs and T_D"),
             ("reference_free", "prediction_reference_free", "the same, reference-free"))
    return section(
        "Degradation prediction without supervision (Sec. 4.3, 5.3, Eq. 8)",
        "An input's own filters are the top 1% of its single-image FAIG scores (Eq. 6); OS(x, D) = |filters_D ∩ "
        "filters_x| / |filters_x|; x is said to contain D when OS ≥ T_D. The reference-free mode (beyond the paper) "
        "uses the target's own output in place of the ground truth, for photos that have none.",
        [prediction_table(results), prediction_variants_table(results),
         *(block for arch, entry in results.archs.items() for mode, figure, says in modes for block in
           (confusion_table(entry.confusion(mode), f"{arch}: confusion ({mode.replace('_', '-')})"),
            Figure(figures[arch][figure], f"{arch}: {says}")))])


def ablation_section(results: Results, figures: dict[str, dict[str, Path]]) -> list[Block]:
    """Sec. 5.4 (Fig. 5): the elimination term's ablation for every architecture."""
    caption = (f"1% {function_label(results.degradations[0])} filters masked, found with and without the elimination "
               f"term; PSNR on each panel")
    return section("The elimination term matters (Sec. 5.4, Fig. 5)", "",
                   [block for arch in results.archs for block in
                    (ablation_table(results, arch), Figure(figures[arch]["ablation_images"], f"{arch}: {caption}"))])


def modulation_section(results: Results, figures: dict[str, dict[str, Path]]) -> list[Block]:
    """Beyond the paper: turning each degradation's restoration up and down through its 1% filters."""
    captions = {"modulation_curves": "PSNR and gradient energy against λ",
                "modulation_images": "outputs for growing λ, PSNR on each panel"}
    return section(
        "Modulating the discovered filters",
        "θ_λ = θ̄ + λ(θ − θ̄) on the 1% filters of one degradation, the target elsewhere: λ = 0 switches that "
        "restoration off, λ = 1 is the target. `faig modulate --lambda 0.6 --degradation noise IMAGE` applies it to "
        "any image.",
        [block for arch in results.archs for block in
         (modulation_table(results, arch),
          *(Figure(figures[arch][name], f"{arch}: {caption}") for name, caption in captions.items()))])


def level_tables(results: Results, arch: str) -> list[Table]:
    """The level study of one architecture: per studied degradation, its overlap and masking matrices."""
    tables = []
    for degradation, study in results.arch(arch).levels.items():
        names = study["levels"]
        tables.append(Table(["top-1% set"] + names,
                            [[row] + [f"{100 * study['overlap'][row][c]:.0f}%" for c in names] for row in names],
                            f"{arch}, {degradation}: share of a level's top-1% filters (row) that another "
                            f"level's top 1% (column) holds"))
        tables.append(Table(["masked 1%"] + [input_label(c).capitalize() for c in names],
                            [[row] + [f"{study['masking'][row][c]:.3f}" for c in names] for row in [*names, "random"]],
                            f"{arch}, {degradation}: masking each level's 1% filters on each level's inputs "
                            f"(×10⁻³ gradient MSE), random 1% for scale"))
    return tables


def level_sentence(arch: str, degradation: str, study: dict) -> str:
    """What the level study says for one kind, in numbers: the overlap of neighbouring levels and
    whether each level's set hurts its own level's inputs most."""
    names = study["levels"]
    neighbours = ", ".join(f"{a}/{b} {100 * study['overlap'][a][b]:.0f}%" for a, b in zip(names, names[1:]))
    own_most = [level for level in names
                if max(names, key=lambda row: study["masking"][row][level]) == level]
    return (f"{arch}, {degradation}: neighbouring levels share {neighbours} of their top-1% sets; "
            f"{len(own_most)} of {len(names)} levels' inputs are hurt most by their own level's set"
            f"{' (' + ', '.join(own_most) + ')' if own_most else ''}.")


def levels_section(results: Results, figures: dict[str, dict[str, Path]]) -> list[Block]:
    """Beyond the paper (issue 12): the level study's sentences, matrices and figures; none without a study."""
    studied = [arch for arch, entry in results.archs.items() if entry.levels]
    if not studied:
        return []
    return section(
        "Degradation levels (beyond the paper)",
        "The paper studies one blur (σ = 2) and one noise (σ = 0.1). Here each degradation's kind is attributed at "
        "three levels (blur σ 1, 2, 3; noise σ 0.05, 0.1, 0.2; JPEG quality 10, 30, 50) on the discover split, "
        "each level's discriminative set found by Eq. 7 against the run's other degradations (the embedded "
        "targets were fine-tuned at the middle levels only). Do the levels share their filters, and does a "
        "level's set serve its own level or the whole kind?",
        [*(Paragraph(level_sentence(arch, d, study)) for arch in studied
           for d, study in results.arch(arch).levels.items()),
         *(block for arch in studied for block in
           (*level_tables(results, arch), Figure(figures[arch]["levels"], f"{arch}: overlap and masking matrices "
                                                                           f"between levels")))])


def report_blocks(results: Results, figures: dict[str, dict[str, Path]],
                  densities: dict[str, dict[str, dict[str, float]]], table1: Sequence[Block] = ()) -> list[Block]:
    """The whole report: the headline and the findings first; ``figures[arch][name]`` are paths
    relative to the report, ``densities[arch]`` each filter set's share of each layer's filters,
    ``table1`` Sec. 3's blocks (:func:`faig.report.branches.branches_blocks`) when there are any."""
    return [headline(results), Paragraph(mode_text(results)), findings_table(results),
            *section("Run", "", overview(results)), *section("Models", "", [models_table(results)]),
            *masking_section(results, figures), *retrain_section(results),
            *distribution_section(results, figures, densities), *prediction_section(results, figures),
            *ablation_section(results, figures), *modulation_section(results, figures),
            *levels_section(results, figures), *table1,
            *section("Timing", "", [timing_table(results)])]
