"""format_table: the console table of ``faig eval``, cell by cell; evaluate_models' refusals; the
checkpoints' labels; the blind-SR marks."""

import pytest

import faig.data.splits
from faig.errors import FaigError
from faig.evaluate import evaluate_models, format_table, missed_marks, model_labels


def scores(psnr: float, ssim: float) -> dict:
    return {"psnr": psnr, "ssim": ssim}


def test_preset_result_one_row_per_arch_and_stage():
    result = {"split": "test", "scale": 2, "images": ["a", "b", "c"],
              "models": {"srresnet": {"baseline": {"clean": scores(30.126, 0.91234), "blur": scores(9.5, 0.5)},
                                      "target": {"clean": scores(29.994, 0.90006), "blur": scores(27.0, 0.87654)}}}}
    lines = format_table(result).split("\n")
    assert lines == [
        "test (3 images, x2): PSNR dB / SSIM",
        "srresnet baseline      clean  30.13 / 0.9123  blur   9.50 / 0.5000",
        "srresnet target        clean  29.99 / 0.9001  blur  27.00 / 0.8765",
    ]
    assert lines[1].index("clean") == 23  # the label is padded to 22 characters, then one space


def test_model_files_are_rows_by_stem_and_a_long_label_is_not_cut():
    result = {"split": "/data/hr", "scale": 4, "images": ["only"],
              "models": {"a_rather_long_checkpoint_name": {"noise": scores(24.444, 0.71111)},
                         "short": {"noise": scores(100.0, 1.0)}}}
    assert format_table(result) == ("/data/hr (1 image, x4): PSNR dB / SSIM\n"
                                    "a_rather_long_checkpoint_name noise  24.44 / 0.7111\n"
                                    "short                  noise 100.00 / 1.0000")


def test_an_empty_list_of_architectures_is_refused_not_read_as_the_presets(monkeypatch):
    monkeypatch.setattr(faig.data.splits, "load_images", lambda *a: pytest.fail("loaded images before the check"))
    with pytest.raises(FaigError, match="^no architecture named$"):
        evaluate_models(archs=())


class TestModelLabels:
    def test_distinct_stems_stay_stems(self):
        assert model_labels(["a/net.safetensors", "b/other.pth"]) == ["net", "other"]

    def test_two_runs_of_one_default_name_get_the_folder_that_tells_them_apart(self, tmp_path):
        paths = [tmp_path / "runs" / run / "srresnet_target.safetensors" for run in ("lr1e-4", "lr5e-5")]
        assert model_labels([*paths, tmp_path / "srresnet_baseline.safetensors"]) == [
            "lr1e-4/srresnet_target", "lr5e-5/srresnet_target", "srresnet_baseline"]

    def test_folders_are_added_until_the_labels_differ(self, tmp_path):
        paths = [tmp_path / "a" / "x" / "net.pth", tmp_path / "b" / "x" / "net.pth", tmp_path / "c" / "net.pth"]
        assert model_labels(paths) == ["a/x/net", "b/x/net", "c/net"]

    def test_files_that_differ_only_in_their_extension_keep_it(self):
        assert model_labels(["net.pth", "net.safetensors", "other.pth"]) == ["net.pth", "net.safetensors", "other"]

    def test_a_file_named_twice_is_refused(self, tmp_path):
        with pytest.raises(FaigError, match=r"^checkpoint .*/x/\.\./x/net\.pth is .*/x/net\.pth again: name each "
                                             r"file once$"):
            model_labels([tmp_path / "x" / "net.pth", tmp_path / "x" / ".." / "x" / "net.pth"])


BASELINE = {"clean": 32.0, "blur": 26.0, "noise": 20.0, "jpeg": 26.6}


@pytest.mark.parametrize("target, bicubic, missed", [
    ({"clean": 31.0, "blur": 28.0, "noise": 24.0}, 30.0, []),
    ({"clean": 30.46, "blur": 28.0, "noise": 24.0}, 30.0, ["clean -1.54 < -1.5"]),
    ({"clean": 31.0, "blur": 27.4, "noise": 22.9}, 30.0, ["blur +1.40 < +1.5", "noise +2.90 < +3"]),
    ({"clean": 31.0, "blur": 28.0, "noise": 24.0}, 32.0, ["baseline clean 32.00 <= bicubic 32.00"]),
    ({"clean": 31.0, "blur": 28.0, "noise": 24.0, "jpeg": 27.0}, 30.0, ["jpeg +0.40 < +0.5"]),
])
def test_the_blind_sr_marks(target, bicubic, missed):
    """Each mark is checked for the variants the target has; the baseline must beat bicubic."""
    assert missed_marks({"baseline": BASELINE, "target": target}, bicubic) == missed
