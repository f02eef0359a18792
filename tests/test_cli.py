import argparse
import json
import subprocess
import sys

import pytest
import torch

from faig.cli import main
from faig.models.checkpoints import save_weights
from faig.models.registry import ArchConfig, build_model

SMALL = ArchConfig("srresnet", 2, width=8, depth=1)


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_python_dash_m_faig_help():
    result = subprocess.run([sys.executable, "-m", "faig", "--help"], capture_output=True, text=True, check=True)
    for command in ("data", "train", "eval"):
        assert command in result.stdout


def test_eval_json_on_a_folder(capsys, tmp_path, hr_folder):
    save_weights(tmp_path / "net.safetensors", build_model(SMALL), SMALL)
    code, out, _ = run(capsys, "eval", "--model", str(tmp_path / "net.safetensors"), "--hr-dir", str(hr_folder),
                       "--variants", "clean,noise", "--json", "--out", str(tmp_path / "eval.json"))
    assert code == 0
    result = json.loads(out)
    assert result["images"] == ["img0", "img1", "img2"]
    scores = result["models"]["net"]
    assert set(scores) == {"clean", "noise"} and scores["clean"]["psnr"] > scores["noise"]["psnr"]
    assert 0 < scores["noise"]["ssim"] < 1
    assert json.loads((tmp_path / "eval.json").read_text()) == result


def test_eval_tells_apart_two_runs_that_wrote_the_same_name(capsys, tmp_path, hr_folder):
    for folder in ("a", "b"):
        save_weights(tmp_path / folder / "net.safetensors", build_model(SMALL), SMALL)
    models = ["--model", str(tmp_path / "a" / "net.safetensors"), "--model", str(tmp_path / "b" / "net.safetensors")]
    code, out, err = run(capsys, "eval", *models, "--hr-dir", str(hr_folder), "--variants", "clean,blur", "--json")
    assert code == 0
    models_scores = json.loads(out)["models"]
    assert list(models_scores) == ["a/net", "b/net"] and models_scores["a/net"]["clean"]["psnr"] > 0
    assert "faig eval: 100%" in err and "12/12" in err and "b/net" in err  # 2 networks x 2 variants x 3 images
    code, quiet_out, err = run(capsys, "eval", *models, "--hr-dir", str(hr_folder), "--variants", "clean,blur",
                               "--json", "--quiet")
    assert code == 0 and quiet_out == out and err == ""


def test_data_writes_the_official_layout(capsys, tmp_path, hr_folder):
    code, out, _ = run(capsys, "data", "--hr-dir", str(hr_folder), "--out", str(tmp_path / "set"))
    assert code == 0 and "Blur2_LRbicx2_noise0.1: 3 images" in out
    assert sorted(p.name for p in (tmp_path / "set" / "LRbicx2").iterdir()) == ["img0.png", "img1.png", "img2.png"]


@pytest.mark.parametrize("argv,message", [
    (["eval", "--arch", "edsr"], "unknown architecture 'edsr'"),
    (["eval", "--arch", ","],
     "--arch ',' names no architecture; give one or more of rrdbnet, srcnn_style, srresnet, swinir, comma-separated"),
    (["eval", "--arch", ""], "--arch '' names no architecture"),
    (["reproduce", "--arch", " , ", "--out", "x"], "--arch ' , ' names no architecture"),
    (["eval", "--preset", "paper", "--arch", "srresnet"], "ships no weights"),
    (["eval", "--model", "missing.safetensors"], "checkpoint not found"),
    (["eval", "--split", "nowhere", "--model", "x"], "unknown split 'nowhere'"),
    (["train", "--preset", "huge"], "unknown preset"),
    (["eval", "--preset", "huge"], "unknown preset 'huge'; choose from embedded, paper"),
    (["eval", "--device", "tpu"], "unknown device 'tpu'; use cpu, cuda or cuda:N"),
    (["data", "--hr-dir", "/nonexistent", "--out", "x"], "not a folder"),
    (["attribute", "--method", "shap", "--out", "x"], "shap"),
    (["attribute", "--method", "faig,faig", "--out", "x"], "a method is named twice (faig,faig)"),
    (["attribute", "--abs-plain", "--out", "x"], "changes the abs method alone, and abs is not run"),
    (["attribute", "--baseline", "a.safetensors", "--out", "x"], "give both --baseline and --target"),
    (["reproduce", "--target", "t.safetensors", "--out", "x"], "give both --baseline and --target"),
    (["reproduce", "--weights", "w", "--baseline", "b", "--target", "t"], "either --weights or --baseline/--target"),
    (["reproduce", "--baseline", "b.pth", "--target", "t.pth"], "checkpoint not found"),
    (["branches", "--shard", "half", "--out", "x"], "--shard takes i/n, e.g. 0/4, not 'half'"),
    (["reproduce", "--degradations", "blur", "--out", "x"], "--degradations needs at least two"),
    (["reproduce", "--degradations", ",", "--out", "x"], "--degradations needs at least two (Eq. 7 eliminates the "
                                                          "others), got none"),  # not read as the default
    (["eval", "--variants", " , "], "no variant named"),
    (["train", "--mix", ",", "--out", "x"], "--mix ',' names no kind; give jpeg"),
    (["train", "--config", "c.json", "--arch", "swinir", "--seed", "5", "--out", "x"],
     "--config describes the whole stage; drop --arch, --seed"),
    (["train", "--mix", "jpeg", "--stage", "baseline", "--out", "x"],
     "--mix jpeg changes the target's blind mix, and no target stage is trained"),
    (["reproduce", "--degradations", "blur,fog", "--out", "x"], "unknown degradation variant 'fog'"),
    (["reproduce", "--degradations", "fog", "--out", "x"], "unknown degradation variant 'fog'"),  # not "needs two"
    (["reproduce", "--weights", "nowhere", "--out", "x"], "--weights nowhere: no such folder"),
    (["eval", "--model", "."], ". is a folder, not a checkpoint file"),
    (["train", "--mix", "fog", "--out", "x"], "--mix adds jpeg to the blind mix of blur and noise, not 'fog'"),
    (["modulate", "missing.png", "--degradation", "fog", "--lambda", "0.5"], "unknown degradation 'fog'"),
])
def test_bad_input_is_one_line_and_non_zero(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.count("\n") == 1 and message in err and err.startswith("faig: error: ")


def test_sigterm_ends_a_command_with_its_cleanup_done(capsys, tmp_path, monkeypatch):
    """SIGTERM mid-write: exit 143 with one line, and the atomic write's temporary file is removed
    (Python's default would die at once and leave it behind)."""
    import os
    import signal

    import faig.cli as cli
    from faig.files import atomic_path

    def export_killed_mid_write(args):
        with atomic_path(tmp_path / "model.pth") as temporary:
            temporary.write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGTERM)
        return 0

    monkeypatch.setattr(cli, "_cmd_export", export_killed_mid_write)
    before = signal.getsignal(signal.SIGTERM)
    code, _, err = run(capsys, "export", "w.safetensors", "--out", str(tmp_path / "model.pth"))
    assert (code, err) == (143, "faig: terminated\n")
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("command", [["eval", "--arch", "srresnet"], ["attribute", "--method", "faig"]])
def test_an_image_the_measures_cannot_take_is_named(capsys, tmp_path, command):
    from faig.data.images import write_image

    write_image(tmp_path / "hr" / "pixel.png", torch.rand(1, 3, 4, 4))
    code, _, err = run(capsys, *command, "--hr-dir", str(tmp_path / "hr"), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 1 and err.startswith("faig: error: image pixel: ") and err.count("\n") == 1


def test_version(capsys):
    from faig import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"faig {__version__}"


def test_an_output_folder_that_cannot_be_made_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "data", "--split", "test", "--out", str(blocker / "set"))
    assert code == 1 and err.startswith("faig: error: ") and err.count("\n") == 1 and str(blocker) in err


def test_unknown_preset_writes_nothing(capsys, tmp_path):
    code, _, err = run(capsys, "reproduce", "--preset", "huge", "--out", str(tmp_path / "out"))
    assert code == 1 and "unknown preset 'huge'; choose from embedded, paper" in err
    assert not (tmp_path / "out").exists()


def test_train_refuses_images_smaller_than_a_patch(capsys, tmp_path, hr_folder):
    code, _, err = run(capsys, "train", "--arch", "srresnet", "--stage", "baseline", "--hr-dir", str(hr_folder),
                       "--out", str(tmp_path / "out"), "--steps", "2", "--quiet")
    assert code == 1 and "smaller than the 64px patch" in err
    assert not (tmp_path / "out" / "srresnet_baseline.safetensors").exists()


def test_eval_scale_mismatch(capsys, tmp_path, hr_folder):
    save_weights(tmp_path / "net.safetensors", build_model(SMALL), SMALL)
    code, _, err = run(capsys, "eval", "--model", str(tmp_path / "net.safetensors"), "--hr-dir", str(hr_folder),
                       "--scale", "3")
    assert code == 1 and "x2 network; x3 was asked for" in err


def test_attribute_writes_rankings_and_official_index_files(capsys, tmp_path, hr_folder):
    import torch

    baseline, target = build_model(SMALL), build_model(SMALL)
    with torch.no_grad():
        for parameter in target.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    save_weights(tmp_path / "b.safetensors", baseline, SMALL)
    save_weights(tmp_path / "t.safetensors", target, SMALL)
    code, out, _ = run(capsys, "attribute", "--method", "faig,abs", "--baseline", str(tmp_path / "b.safetensors"),
                       "--target", str(tmp_path / "t.safetensors"), "--hr-dir", str(hr_folder), "--steps", "4",
                       "--out", str(tmp_path / "attr"), "--quiet")
    assert code == 0 and "faig: blur, noise rankings" in out
    for method in ("faig", "abs"):
        lines = (tmp_path / "attr" / method / "blur_index.txt").read_text().split()
        assert sorted(map(int, lines)) == list(range(len(lines)))


@pytest.mark.parametrize("argv, option, allowed", [
    (["data", "--blur-sigma", "0"], "--blur-sigma", "> 0, got 0.0"),
    (["data", "--blur-sigma", "nan"], "--blur-sigma", "> 0, got nan"),
    (["data", "--noise-sigma", "-1"], "--noise-sigma", "> 0, got -1.0"),
    (["data", "--noise-sigma", "0"], "--noise-sigma", "> 0, got 0.0"),
    (["data", "--noise-sigma", "inf"], "--noise-sigma", "> 0, got inf"),
    (["attribute", "--steps", "0"], "--steps", "an integer >= 1, got 0"),
    (["attribute", "--steps", "1", "--quadrature", "riemann_trapezoid"], "--steps", "an integer >= 2, got 1"),
    (["attribute", "--memory-mb", "0"], "--memory-mb", "> 0, got 0.0"),
    (["attribute", "--memory-mb", "nan"], "--memory-mb", "> 0, got nan"),
    (["train", "--checkpoint-minutes", "-1"], "--checkpoint-minutes", ">= 0, got -1.0"),
    (["train", "--checkpoint-minutes", "nan"], "--checkpoint-minutes", ">= 0, got nan"),
    (["train", "--steps", "0"], "--steps", "at least 1, got 0"),
])
def test_a_bad_number_is_one_line_naming_the_option_and_writes_nothing(capsys, tmp_path, argv, option, allowed):
    code, out, err = run(capsys, *argv, "--out", str(tmp_path / "out"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"faig: error: {option}") and allowed in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["data", "--split", "test"], ["attribute", "--method", "abs"], ["train"]])
def test_an_output_folder_that_is_a_file_is_refused_before_work(capsys, tmp_path, command):
    (tmp_path / "out").write_text("mine")
    code, _, err = run(capsys, *command, "--out", str(tmp_path / "out"))
    assert code == 1 and err == f"faig: error: output folder {tmp_path / 'out'} is a file\n"
    assert (tmp_path / "out").read_text() == "mine"


@pytest.mark.parametrize("options, message", [
    (["--stage", "baseline", "--init"], "a checkpoint path of '' names no file"),
    (["--config"], "a training configuration path of '' names no file")])
def test_an_empty_input_path_is_refused_not_read_as_the_current_folder(capsys, tmp_path, options, message):
    code, out, err = run(capsys, "train", "--steps", "1", "--quiet", "--out", str(tmp_path / "out"), *options, "")
    assert code == 1 and out == "" and err == f"faig: error: {message}\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command, what", [
    (["data", "--split", "test"], "folder"), (["attribute", "--method", "abs"], "folder"),
    (["train", "--stage", "baseline", "--steps", "1", "--quiet"], "folder"), (["reproduce", "--quick"], "folder"),
    (["branches", "--quick", "--quiet"], "folder"), (["eval"], "file"),
])
def test_an_empty_output_path_is_refused_and_nothing_is_written_here(capsys, tmp_path, monkeypatch, command, what):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *command, "--out", "")
    assert code == 1 and out == "" and err.startswith(f"faig: error: output {what} '' names no {what}; give a path")
    assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_reproduce_reads_every_folder_before_any_work(capsys, tmp_path, monkeypatch):
    """A folder the run cannot use is refused with the error its late load would give, before the
    first step, and at the scale of the networks analysed (here a x3 pair)."""
    import torch

    import faig.reproduce.run
    from faig.data.images import write_image

    monkeypatch.setattr(faig.reproduce.run, "run_seed", lambda *args: pytest.fail("worked before reading folders"))
    (tmp_path / "nonimg").mkdir()
    (tmp_path / "nonimg" / "b.png").write_text("not an image")
    write_image(tmp_path / "five" / "x.png", torch.rand(1, 3, 5, 5))
    x3 = ArchConfig("srresnet", 3, width=8, depth=1)
    for stage in ("b", "t"):
        save_weights(tmp_path / f"{stage}.safetensors", build_model(x3), x3)
    out = str(tmp_path / "out")
    code, _, err = run(capsys, "reproduce", "--quick", "--arch", "srresnet", "--calibrate-dir",
                       str(tmp_path / "nonimg"), "--out", out, "--quiet")
    assert code == 1 and err == (f"faig: error: cannot read image {tmp_path / 'nonimg' / 'b.png'}: "
                                 f"not an image file, or a damaged one\n")
    code, _, err = run(capsys, "reproduce", "--quick", "--baseline", str(tmp_path / "b.safetensors"), "--target",
                       str(tmp_path / "t.safetensors"), "--test-dir", str(tmp_path / "five"), "--out", out, "--quiet")
    assert code == 1 and err == (f"faig: error: image too small: {tmp_path / 'five' / 'x.png'} is 5x5; at least 6 "
                                 f"pixels a side are needed (it is cropped to multiples of 3)\n")
    assert not (tmp_path / "out").exists()


def test_eval_out_must_be_a_writable_file_path_before_evaluating(capsys, tmp_path, monkeypatch):
    import faig.evaluate

    monkeypatch.setattr(faig.evaluate, "evaluate_models", lambda *args: pytest.fail("evaluated before the check"))
    (tmp_path / "folder").mkdir()
    code, _, err = run(capsys, "eval", "--out", str(tmp_path / "folder"))
    assert code == 1 and err == f"faig: error: output file {tmp_path / 'folder'} is a folder\n"
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, "eval", "--out", str(tmp_path / "file" / "e.json"))
    assert code == 1 and err.count("\n") == 1 and f"{tmp_path / 'file'} is a file" in err


def test_a_failed_write_is_words_and_the_users_path(capsys, tmp_path, hr_folder, monkeypatch):
    import faig.files

    def full(prefix, suffix, dir):
        raise OSError(28, "No space left on device", f"{dir}/{prefix}3zbkm1l6{suffix}")

    monkeypatch.setattr(faig.files.tempfile, "mkstemp", full)
    code, _, err = run(capsys, "data", "--hr-dir", str(hr_folder), "--out", str(tmp_path / "set"))
    assert code == 1
    assert err == f"faig: error: no space left on device: {tmp_path / 'set' / 'GTmod12' / 'img0.png'}\n"


@pytest.mark.parametrize("error, words", [
    (PermissionError(13, "Permission denied", "/x/y"), "permission denied: /x/y"),
    (OSError(28, "No space left on device"), "no space left on device"),
    (OSError("disk unplugged"), "disk unplugged"),
])
def test_operating_system_errors_are_words(error, words):
    from faig.cli import os_error_words

    assert os_error_words(error) == words


@pytest.mark.parametrize("command", ["data", "train", "eval", "attribute"])
def test_help_shows_every_default(command):
    from faig.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    text = " ".join(sub.format_help().split())
    shown = [a for a in sub._actions if a.default not in (None, False, argparse.SUPPRESS)]
    assert shown
    for action in shown:
        assert f"(default: {action.default})" in text, action.option_strings
    assert "(default: None)" not in text and "(default: False)" not in text


def test_modulate_refuses_an_index_file_of_the_other_architecture(capsys, tmp_path):
    from faig.attribution.filters import FilterIndex, write_index_file
    from faig.data.images import write_image
    from faig.models.registry import preset_arch

    import torch

    srresnet = FilterIndex.from_module(build_model(preset_arch("embedded", "srresnet")))
    write_index_file(tmp_path / "blur_index.txt", torch.arange(srresnet.total), srresnet)
    write_image(tmp_path / "photo.png", torch.rand(1, 3, 12, 12))
    code, _, err = run(capsys, "modulate", str(tmp_path / "photo.png"), "--degradation", "blur", "--lambda", "0.5",
                       "--arch", "srcnn_style", "--filters", str(tmp_path / "blur_index.txt"),
                       "--out", str(tmp_path / "out.png"))
    assert code == 1 and err.count("\n") == 1 and "another network" in err and not (tmp_path / "out.png").exists()


def test_export_writes_a_basicsr_checkpoint(tmp_path, capsys):
    import torch

    from faig.models.registry import preset_weights

    out = tmp_path / "target.pth"
    assert main(["export", str(preset_weights("embedded", "srresnet", "target")), "--out", str(out)]) == 0
    assert list(torch.load(out, weights_only=True)) == ["params_ema", "params"]
    assert main(["export", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "x.pth")]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_an_error_naming_a_path_with_a_newline_stays_on_one_line(capsys, tmp_path):
    missing = tmp_path / "two\nlines.safetensors"
    code, _, err = run(capsys, "eval", "--model", str(missing))
    assert code == 1 and err.count("\n") == 1 and "two\\nlines.safetensors" in err
