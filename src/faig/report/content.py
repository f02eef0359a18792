"""The report's text and tables, from results.json's data and the figures' paths; the paper's
numbers (Table 2, Table 3, Sec. 5.3) beside ours."""

from __future__ import annotations

from pathlib import Path

from faig.report.blocks import Block, Figure, Heading, Paragraph, Table

METHOD_NAMES = {"faig": "FAIG", "ig": "IG", "abs": "|θ − θ̄|", "random": "Random"}
FUNCTIONS = {"blur": "deblurring", "noise": "denoising"}
INPUT_NAMES = {"blur_input": "Blurry input", "noise_input": "Noisy input"}
TASK_NAMES = {"blur": "Blurry (deblurring task)", "noise": "Noisy (denoising task)"}

# The paper's SRResNet numbers on Set14 (Table 2: x 1e-3, mean ± std over three seeds; Table 3: dB).
PAPER_TABLE2 = {
    "1": {"blur_input": {"faig": "6.68 ± 0.63", "ig": "4.31 ± 1.54", "abs": "0.18 ± 0.13", "random": "0.07 ± 0.01"},
          "noise_input": {"faig": "6.62 ± 0.54", "ig": "4.22 ± 0.44", "abs": "0.49 ± 0.10",
                          "random": "0.04 ± 0.01"}},
    "5": {"blur_input": {"faig": "7.53 ± 0.24", "ig": "6.41 ± 0.88", "abs": "2.16 ± 0.61", "random": "0.55 ± 0.32"},
          "noise_input": {"faig": "16.28 ± 3.84", "ig": "8.01 ± 1.04", "abs": "3.25 ± 1.85",
                          "random": "0.19 ± 0.05"}},
}
PAPER_TABLE3 = {
    "blur": ["29.203 ± 0.021", "27.889 ± 0.207", "26.389 ± 0.274", "26.444 ± 0.097", "26.691 ± 0.092",
             "27.642 ± 0.007", "26.534 ± 0.125", "26.444 ± 0.096", "26.668 ± 0.126"],
    "noise": ["26.712 ± 0.008", "25.268 ± 0.035", "25.211 ± 0.005", "25.288 ± 0.044", "25.239 ± 0.034",
              "25.743 ± 0.033", "25.141 ± 0.116", "25.275 ± 0.035", "25.204 ± 0.016"],
}
PAPER_PREDICTION = {"blur": {"threshold": 0.5, "accuracy": 0.96}, "noise": {"threshold": 0.6, "accuracy": 0.98}}


def pm(entry: dict, digits: int = 2) -> str:
    return f"{entry['mean']:.{digits}f} ± {entry['std']:.{digits}f}"


def spread_text(kind: str) -> str:
    return "the standard deviation over seeds (of each seed's mean over the images)" if kind == "seeds" \
        else "the standard deviation over the images (one seed)"


def overview(results: dict) -> list[Block]:
    config = results["config"]
    retrain = config["retrain"]
    trained = [arch for arch, flag in config["models_trained_here"].items() if flag]
    models = (f"trained in this run ({', '.join(trained)}), one pair per seed" if trained
              else "the preset's committed weights, the same for every seed")
    blocks: list[Block] = [
        Paragraph(f"Preset `{config['preset']}`, architectures {', '.join(config['archs'])}"
                  f"{' (quick run: fewer images, steps and percentages, one seed)' if config['quick'] else ''}. "
                  f"Models: {models}. Rerun with `{config['command']}`."),
        Paragraph(f"Seeds: {config['seeds']} for model scores, attribution, masking, ablation, modulation and "
                  f"filter distribution; {config['retrain_seeds']} for re-training; {config['prediction_seeds']} "
                  f"for degradation prediction. A seed changes every random choice: the noise of the degraded "
                  f"inputs, the random baseline's filters, the re-training runs' data and initial order, and the "
                  f"training itself when the run trains the models."),
        Paragraph(f"What ± means: masking and ablation: {spread_text(results['spread']['masking'])}; "
                  f"re-training: {spread_text(results['spread']['retrain'])}."),
        Paragraph(f"Budget: attribution uses {config['quadrature']} quadrature with {config['steps']} nodes "
                  f"(the paper: 100 left-Riemann steps), prediction {config['prediction_steps']} nodes per input; "
                  f"every re-training run takes {retrain['steps']} steps (batch {retrain['batch_size']}, "
                  f"{retrain['gt_size']}px patches, lr {retrain['lr']:g}); the paper re-trains for far longer and "
                  f"reports three seeds. `--retrain-steps N`, `--retrain-seeds 3` and `--prediction-seeds 3` "
                  f"restore the full protocol at a proportional cost (see the timing table)."),
    ]
    return blocks


def findings_table(results: dict) -> Table:
    rows = [[c["arch"], c["claim"], c["measured"], "yes" if c["holds"] else "NO"] for c in results["findings"]]
    return Table(["arch", "expectation", "measured", "holds"], rows, "What the embedded default should show")


def models_table(results: dict) -> Table:
    variants = ["clean", "blur", "noise", "blur+noise"]
    first = next(iter(results["models"]))
    rows = [[name] + [f"{scores[v]['psnr']:.2f}" for v in variants]
            for name, scores in [("bicubic", results["models"][first]["bicubic"])]
            + [(f"{arch} {stage}", results["models"][arch][stage])
               for arch in results["models"] for stage in ("baseline", "target")]]
    return Table(["model"] + variants, rows, "PSNR (dB) on the test split")


def table2(results: dict, arch: str) -> Table:
    percents = [f"{p:g}" for p in results["config"]["table_percents"]]
    masking = results["masking"][arch]
    headers = ["input"] + [f"{METHOD_NAMES[m]} {p}%" for p in percents for m in METHOD_NAMES]
    rows = []
    for kind, name in INPUT_NAMES.items():
        own = kind.split("_")[0]
        rows.append([f"{name} (ours)"] + [pm(masking[m][own][p][kind]) if p in masking[m][own] else "–"
                                          for p in percents for m in METHOD_NAMES])
        if arch == "srresnet":
            rows.append([f"{name} (paper)"] + [PAPER_TABLE2.get(p, {}).get(kind, {}).get(m, "–")
                                               for p in percents for m in METHOD_NAMES])
    return Table(headers, rows, f"Table 2, {arch}: gradient MSE (×10⁻³) after masking the input's own filters "
                                f"(deblurring filters for blurry inputs, denoising filters for noisy ones)")


def cross_table(results: dict, arch: str) -> Table:
    masking = results["masking"][arch]
    rows = [[f"{METHOD_NAMES[m]}, {FUNCTIONS[d]} filters"] + [pm(masking[m][d]["1"][k]) for k in INPUT_NAMES]
            for m in METHOD_NAMES for d in FUNCTIONS]
    return Table(["masked 1%"] + list(INPUT_NAMES.values()), rows,
                 f"{arch}: each filter set on both inputs (×10⁻³): discriminative filters hurt their own "
                 f"input only")


def table3(results: dict, arch: str) -> Table:
    retrain = results["retrain"][arch]
    headers = ["task", "upper bound"] + [f"{METHOD_NAMES[m]}, {FUNCTIONS[d]} filters" for d in FUNCTIONS
                                         for m in METHOD_NAMES]
    rows = []
    for task in FUNCTIONS:
        upper = retrain["upper_bound"][task]
        rows.append([f"{TASK_NAMES[task]} (ours)", f"{upper['psnr']:.3f} ± {upper['std']:.3f}"]
                    + [pm(retrain[m][d][task], 3) for d in FUNCTIONS for m in METHOD_NAMES])
        if arch == "srresnet":
            rows.append([f"{TASK_NAMES[task]} (paper)"] + PAPER_TABLE3[task])
    return Table(headers, rows, f"Table 3, {arch}: test PSNR (dB) after re-training only 1% filters of the baseline")


def distribution_table(results: dict, arch: str, densities: dict) -> Table:
    shares = results["distribution"][arch]
    layers = list(shares["blur"])
    rows = [[layer] + [f"{100 * shares[d][layer]:.1f}% ({100 * densities[d][layer]:.2f}%)" for d in FUNCTIONS]
            for layer in layers]
    return Table(["layer (input → output)"] + [f"{FUNCTIONS[d]} filters" for d in FUNCTIONS], rows,
                 f"{arch}: share of the top-1% filters per layer (in brackets: share of the layer's own filters)")


def prediction_variants_table(results: dict) -> Table:
    rows = []
    for key, mode in (("prediction", "standard"), ("prediction_reference_free", "reference-free")):
        for arch in results[key]:
            for d in FUNCTIONS:
                by_variant = results[key][arch][d]["accuracy_by_variant"]
                rows.append([f"{arch}, {mode}", d] + [f"{100 * by_variant[v]:.1f}%" for v in by_variant])
    variants = list(next(iter(results["prediction"].values()))["blur"]["accuracy_by_variant"])
    return Table(["model, mode", "decision"] + variants, rows, "Accuracy of each binary decision by input variant")


def prediction_table(results: dict) -> Table:
    rows = []
    for arch in results["prediction"]:
        for d in FUNCTIONS:
            standard, free = results["prediction"][arch][d], results["prediction_reference_free"][arch][d]
            paper = PAPER_PREDICTION[d]
            rows.append([arch, d, f"{standard['threshold']:.3f}", f"{100 * standard['accuracy']:.1f}%",
                         str(standard["n"]), f"{free['threshold']:.3f}", f"{100 * free['accuracy']:.1f}%",
                         f"{paper['threshold']:g} / {100 * paper['accuracy']:.0f}%"])
    return Table(["arch", "degradation", "T_D", "accuracy", "test inputs", "reference-free T_D",
                  "reference-free accuracy", "paper T_D / accuracy (SRResNet)"], rows,
                 "Degradation prediction (Eq. 8): thresholds from the calibrate split, accuracy on the test split")


def confusion_table(confusion: dict, title: str) -> Table:
    variants = list(confusion)
    rows = [[true] + [str(confusion[true][p]) for p in variants] for true in variants]
    return Table(["true \\ predicted"] + variants, rows, title)


def ablation_table(results: dict, arch: str) -> Table:
    ablation = results["ablation"][arch]
    names = {"with_elimination": "with the ∼D term (Eq. 7)", "without_elimination": "without it (Eq. 6 mean)"}
    rows = [[names[v]] + [pm(ablation[v][k]) for k in INPUT_NAMES] for v in names]
    return Table(["1% deblurring filters found"] + list(INPUT_NAMES.values()), rows,
                 f"{arch}: masking drop (×10⁻³); the noisy column shows whether denoising survives")


def modulation_table(results: dict, arch: str) -> Table:
    curves = results["modulation"][arch]
    rows = [[f"{a['lambda']:g}", f"{a['psnr']:.2f}", f"{a['gradient_energy']:.4f}", f"{b['psnr']:.2f}",
             f"{b['gradient_energy']:.4f}"] for a, b in zip(curves["blur"], curves["noise"])]
    return Table(["λ", "blurry input: PSNR", "gradient energy", "noisy input: PSNR", "gradient energy"], rows,
                 f"{arch}: θ_λ on the 1% filters of the input's degradation")


def timing_table(results: dict) -> Table:
    rows = [[step, f"{seconds:.1f}"] for step, seconds in results["timing"].items()]
    return Table(["step", "seconds"], rows, "Time per step (compute time of the cached result, summed over "
                                            "architectures and seeds)")


def report_blocks(results: dict, figures: dict[str, dict[str, Path]], densities: dict[str, dict]) -> list[Block]:
    """The whole report; ``figures[arch][name]`` are paths relative to the report."""
    archs = list(results["models"])
    blocks: list[Block] = [Heading("Run"), *overview(results), findings_table(results),
                           Heading("Models"), models_table(results),
                           Heading("Masking discovered filters (Sec. 5.2.1, Fig. 3, Table 2)"),
                           Paragraph("The top p% filters of each method are replaced in the target by the baseline's "
                                     "filters at the same place; the drop is the MSE between the gradient maps of the "
                                     "gray outputs of the target and of the masked network, on the discover split.")]
    for arch in archs:
        blocks += [table2(results, arch), cross_table(results, arch),
                   Figure(figures[arch]["masking_curves"], f"{arch}: masking drop against the share of masked filters"),
                   Figure(figures[arch]["masking_images"], f"{arch}: degraded input, target output, and the outputs "
                                                           f"with 1% deblurring / denoising filters masked")]
    blocks += [Heading("Re-training only the discovered filters (Sec. 5.2.2, Table 3)"),
               Paragraph("From the baseline, only the chosen 1% filters are trained (every other weight and every "
                         "bias frozen) on blur-only or noise-only data, with one schedule for every row; the upper "
                         "bound trains every parameter. PSNR on the test split's inputs of the task.")]
    blocks += [table3(results, arch) for arch in archs]
    blocks += [Heading("Where the filters sit (Sec. 5.2.3, Fig. 4)")]
    for arch in archs:
        blocks += [distribution_table(results, arch, densities[arch]),
                   Figure(figures[arch]["distribution"], f"{arch}: share of the top-1% filters per layer"),
                   Figure(figures[arch]["network"], f"{arch}: the discovered 1% filters (yellow), layer by layer")]
    blocks += [Heading("Degradation prediction without supervision (Sec. 4.3, 5.3, Eq. 8)"),
               Paragraph("An input's own filters are the top 1% of its single-image FAIG scores (Eq. 6); "
                         "OS(x, D) = |filters_D ∩ filters_x| / |filters_x|; x is said to contain D when OS ≥ T_D. "
                         "The reference-free mode (beyond the paper) uses the target's own output in place of the "
                         "ground truth, for photos that have none."),
               prediction_table(results), prediction_variants_table(results)]
    for arch in archs:
        blocks += [confusion_table(results["prediction_confusion"][arch], f"{arch}: confusion (test inputs)"),
                   confusion_table(results["prediction_reference_free_confusion"][arch],
                                   f"{arch}: confusion, reference-free"),
                   Figure(figures[arch]["prediction"], f"{arch}: overlap scores of the test inputs and T_D"),
                   Figure(figures[arch]["prediction_reference_free"], f"{arch}: the same, reference-free")]
    blocks += [Heading("The elimination term matters (Sec. 5.4, Fig. 5)")]
    for arch in archs:
        blocks += [ablation_table(results, arch),
                   Figure(figures[arch]["ablation_images"], f"{arch}: 1% deblurring filters masked, found with and "
                                                            f"without the elimination term")]
    blocks += [Heading("Modulating the discovered filters"),
               Paragraph("θ_λ = θ̄ + λ(θ − θ̄) on the 1% filters of one degradation, the target elsewhere: "
                         "λ = 0 "
                         "switches that restoration off, λ = 1 is the target. `faig modulate --lambda 0.6 "
                         "--degradation noise IMAGE` applies it to any image.")]
    for arch in archs:
        blocks += [modulation_table(results, arch),
                   Figure(figures[arch]["modulation_curves"], f"{arch}: PSNR and gradient energy against λ"),
                   Figure(figures[arch]["modulation_images"], f"{arch}: outputs for growing λ")]
    blocks += [Heading("Timing"), timing_table(results)]
    return blocks
