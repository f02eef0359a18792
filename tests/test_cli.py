import json
import subprocess
import sys

import pytest

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


def test_data_writes_the_official_layout(capsys, tmp_path, hr_folder):
    code, out, _ = run(capsys, "data", "--hr-dir", str(hr_folder), "--out", str(tmp_path / "set"))
    assert code == 0 and "Blur2_LRbicx2_noise0.1: 3 images" in out
    assert sorted(p.name for p in (tmp_path / "set" / "LRbicx2").iterdir()) == ["img0.png", "img1.png", "img2.png"]


@pytest.mark.parametrize("argv,message", [
    (["eval", "--arch", "edsr"], "unknown architecture 'edsr'"),
    (["eval", "--preset", "paper", "--arch", "srresnet"], "ships no weights"),
    (["eval", "--model", "missing.safetensors"], "checkpoint not found"),
    (["eval", "--split", "nowhere", "--model", "x"], "unknown split 'nowhere'"),
    (["train", "--preset", "huge"], "unknown preset"),
    (["eval", "--preset", "huge"], "unknown preset 'huge'; choose from embedded, paper"),
    (["eval", "--device", "tpu"], "unknown device 'tpu'; use cpu, cuda or cuda:N"),
    (["data", "--hr-dir", "/nonexistent", "--out", "x"], "not a folder"),
    (["attribute", "--method", "shap", "--out", "x"], "shap"),
    (["attribute", "--baseline", "a.safetensors", "--out", "x"], "give both --baseline and --target"),
    (["modulate", "missing.png", "--degradation", "fog", "--lambda", "0.5"], "unknown degradation 'fog'"),
])
def test_bad_input_is_one_line_and_non_zero(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.count("\n") == 1 and message in err and err.startswith("faig: error: ")


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
