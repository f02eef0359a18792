import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from faig.data.degradations import (Degradation, DegradationSampler, blur, degrade, degrade_batch, degrade_image,
                                    downsample, gaussian_kernel, quantize, sample_degradations, variant)
from faig.errors import FaigError


@pytest.mark.parametrize("size,sigma", [(21, 2.0), (7, 1.0), (15, 3.5)])
def test_kernel_is_the_normalised_gaussian(size, sigma):
    kernel = gaussian_kernel(size, sigma).double()
    assert kernel.shape == (size, size)
    assert kernel.sum().item() == pytest.approx(1.0, abs=1e-6)
    r = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size] - r
    expected = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    np.testing.assert_allclose(kernel.numpy(), expected / expected.sum(), atol=1e-7)


def test_blur_matches_reflect101_correlation():
    image = torch.rand(1, 3, 30, 26, dtype=torch.float64)
    ours = blur(image.float(), 2.0, 21).double()
    kernel = gaussian_kernel(21, 2.0).double().numpy()
    for c in range(3):
        # scipy's "mirror" mode is reflect-101 (cv2.BORDER_DEFAULT): d c b | a b c d | c b a
        expected = ndimage.correlate(image[0, c].numpy(), kernel, mode="mirror")
        np.testing.assert_allclose(ours[0, c].numpy(), expected, atol=1e-5)


def test_x2_bilinear_is_the_mean_of_2x2_blocks():
    image = torch.rand(2, 3, 16, 12)
    expected = image.reshape(2, 3, 8, 2, 6, 2).mean(dim=(3, 5))
    torch.testing.assert_close(downsample(image, 2), expected, atol=1e-6, rtol=0)


def test_x3_bilinear_samples_the_block_centres():
    image = torch.rand(1, 3, 18, 15)
    torch.testing.assert_close(downsample(image, 3), image[..., 1::3, 1::3], atol=1e-6, rtol=0)


def test_quantize_gives_8bit_levels_and_clips():
    values = torch.tensor([-0.3, 0.0, 0.1234, 0.5, 0.99999, 1.7])
    out = quantize(values)
    assert torch.all((out * 255 - (out * 255).round()).abs() < 1e-5)
    assert out.min() == 0 and out.max() == 1
    assert out[2].item() == pytest.approx(31 / 255)


def test_noise_statistics():
    hr = torch.full((1, 3, 400, 400), 0.5)
    lr = degrade(hr, Degradation(2, None, 0.1), torch.Generator().manual_seed(1))
    residual = lr - 0.5
    assert residual.mean().abs().item() < 2e-3
    # quantisation adds variance 1/(12*255^2)
    assert residual.std().item() == pytest.approx((0.1**2 + 1 / (12 * 255**2)) ** 0.5, rel=0.02)


def test_clean_degradation_is_downsample_then_quantize():
    hr = torch.rand(1, 3, 24, 24)
    torch.testing.assert_close(degrade(hr, variant("clean")), quantize(downsample(hr, 2)))


def test_named_variants():
    assert variant("blur") == Degradation(2, 2.0, None)
    assert variant("blur+noise", scale=4) == Degradation(4, 2.0, 0.1)
    with pytest.raises(FaigError, match="unknown degradation variant"):
        variant("sharpen")
    for name, level in (("noise0", None), ("noise", 0.0), ("blur+noise0.0", None)):  # clean inputs, labelled noisy
        with pytest.raises(FaigError, match="a noise level of 0 adds no noise"):
            variant(name) if level is None else variant(name, noise_sigma=level)


def test_fixed_noise_seed_per_image():
    hr = torch.rand(1, 3, 24, 24)
    noise = variant("noise")
    torch.testing.assert_close(degrade_image(hr, "a", noise), degrade_image(hr, "a", noise))
    assert not torch.equal(degrade_image(hr, "a", noise), degrade_image(hr, "b", noise))


@settings(max_examples=20, deadline=None)
@given(blur_prob=st.floats(0, 1), noise_prob=st.floats(0, 1), seed=st.integers(0, 2**31))
def test_sampler_draws_blur_and_noise_independently(blur_prob, noise_prob, seed):
    sampler = DegradationSampler(2, blur_prob, (2.0, 3.0), noise_prob, (0.1,))
    draws = sample_degradations(sampler, 400, torch.Generator().manual_seed(seed))
    blurred = np.array([d.blur_sigma is not None for d in draws])
    noisy = np.array([d.noise_sigma is not None for d in draws])
    assert abs(blurred.mean() - blur_prob) < 0.1 and abs(noisy.mean() - noise_prob) < 0.1
    assert abs((blurred & noisy).mean() - blur_prob * noise_prob) < 0.1  # one draw for both would fail here
    assert {d.blur_sigma for d in draws} <= {None, 2.0, 3.0}
    again = sample_degradations(sampler, 400, torch.Generator().manual_seed(seed))
    assert draws == again


def test_matches_the_official_opencv_pipeline():
    """The official scripts use cv2.filter2D and cv2.resize(INTER_LINEAR); we match them."""
    import cv2  # a test dependency (pyproject: test extra)
    image = np.random.default_rng(0).random((40, 36, 3))
    kernel = gaussian_kernel(21, 2.0).double().numpy()
    as_tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    ours = blur(as_tensor.float(), 2.0, 21)[0].permute(1, 2, 0).double().numpy()
    np.testing.assert_allclose(ours, cv2.filter2D(image, -1, kernel), atol=1e-5)
    for scale in (2, 3, 4):
        expected = cv2.resize(image, (36 // scale, 40 // scale), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(downsample(as_tensor, scale)[0].permute(1, 2, 0).numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(blur_sigma=0.0), "blur_sigma must be a finite number > 0, got 0.0"),
    (dict(blur_sigma=float("nan")), "blur_sigma must be a finite number > 0, got nan"),
    (dict(noise_sigma=-1.0), "noise_sigma must be a finite number >= 0, got -1.0"),
    (dict(noise_sigma=float("inf")), "noise_sigma must be a finite number >= 0, got inf"),
    (dict(scale=0), "scale must be an integer >= 1, got 0"),
    (dict(scale=2.5), "scale must be an integer >= 1, got 2.5"),
    (dict(kernel_size=20), "kernel_size must be odd, got 20"),
])
def test_a_degradation_refuses_bad_values(kwargs, message):
    with pytest.raises(FaigError, match=f"^{message}$"):
        Degradation(**kwargs)
    with pytest.raises(FaigError, match=message.split(",")[0]):
        variant("blur+noise", **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(blur_prob=1.5), "blur_prob must be a finite number in \\[0, 1\\], got 1.5"),
    (dict(noise_prob=float("nan")), "noise_prob must be a finite number in \\[0, 1\\], got nan"),
    (dict(blur_sigmas=(2.0, 0.0)), "blur_sigmas must be a finite number > 0, got 0.0"),
    (dict(noise_sigmas=(-0.1,)), "noise_sigmas must be a finite number >= 0, got -0.1"),
    (dict(noise_sigmas=()), "noise_sigmas must list at least one sigma"),
    (dict(scale=0), "scale must be an integer >= 1, got 0"),
    (dict(kernel_size=0), "kernel_size must be an integer >= 1, got 0"),
])
def test_a_sampler_refuses_bad_values(kwargs, message):
    with pytest.raises(FaigError, match=message):
        DegradationSampler(**kwargs)


def test_a_zero_sigma_kernel_is_refused_not_black():
    with pytest.raises(FaigError, match="sigma must be a finite number > 0, got 0"):
        blur(torch.rand(1, 3, 30, 30), 0)


@pytest.mark.parametrize("call, message", [
    (lambda: blur(torch.rand(3, 30, 30), 2.0), r"blur expects NCHW images \(4 dims\), got shape \(3, 30, 30\)"),
    (lambda: blur(torch.rand(1, 3, 10, 30), 2.0), r"blur needs images larger than 10 pixels a side"),
    (lambda: downsample(torch.rand(1, 1, 3, 8, 8), 2), r"downsample expects NCHW images \(4 dims\)"),
    (lambda: downsample(torch.rand(1, 3, 1, 8), 2), r"downsample x2 needs images of at least 2x2 pixels"),
    (lambda: degrade(torch.rand(3, 8, 8), variant("clean")), r"degrade expects NCHW images \(4 dims\)"),
    (lambda: degrade_batch(torch.rand(2, 3, 8, 8), [variant("clean")], torch.Generator()),
     "degrade_batch needs one degradation per image: 1 for 2"),
])
def test_degradation_functions_check_shapes(call, message):
    with pytest.raises(FaigError, match=message):
        call()


class TestNamedVariants:
    @pytest.mark.parametrize("name, expected", [
        ("clean", (None, None, None)), ("blur", (2.0, None, None)), ("blur1", (1.0, None, None)),
        ("noise0.05", (None, 0.05, None)), ("jpeg", (None, None, 30)), ("jpeg50", (None, None, 50)),
        ("blur3+noise+jpeg70", (3.0, 0.1, 70)), ("noise+blur", (2.0, 0.1, None))])
    def test_names_and_levels(self, name, expected):
        from faig.data.degradations import variant

        degradation = variant(name, scale=3)
        assert (degradation.blur_sigma, degradation.noise_sigma, degradation.jpeg_quality) == expected
        assert degradation.scale == 3

    @pytest.mark.parametrize("name", ["sharpen", "blur+blur1", "jpeg50.5", "jpeg0", "blurx", "blur0", ""])
    def test_bad_names(self, name):
        from faig.data.degradations import variant

        with pytest.raises(FaigError):
            variant(name)

    @pytest.mark.parametrize("name, expected", [("blur.5", {"blur": 0.5}), ("noise0.05", {"noise": 0.05}),
                                                ("jpeg50+blur2", {"jpeg": 50.0, "blur": 2.0})])
    def test_a_level_is_digits_with_an_optional_decimal_point(self, name, expected):
        from faig.data.degradations import variant_parts

        assert variant_parts(name) == expected

    @pytest.mark.parametrize("name", ["noise1_0", "jpegnan", "jpeginf", "jpeg1e400", "blurnan", "noise-0.1",
                                      "noise 0.1", "blur2.", "blur+jpeg+50", "blur,noise"])
    def test_levels_float_would_take_are_refused_in_one_line(self, name):
        from faig.data.degradations import variant

        with pytest.raises(FaigError, match=f"^unknown degradation variant '{re.escape(name)}': use clean, or blur, noise, jpeg "
                                            r"with an optional level \(digits, with an optional decimal point\)"):
            variant(name)

    def test_a_jpeg_quality_too_long_to_be_finite_is_refused_before_it_is_made_an_int(self):
        from faig.data.degradations import variant

        name = "jpeg" + "9" * 400  # float() of 400 digits is inf
        with pytest.raises(FaigError, match=r"^a JPEG quality is a whole number from 1 to 100, not inf "):
            variant(name)
        with pytest.raises(FaigError, match=r"^a JPEG quality is a whole number from 1 to 100, not 0 \('jpeg0'\)$"):
            variant("jpeg0")
        with pytest.raises(FaigError, match=r"^a JPEG quality is a whole number from 1 to 100, not nan \('jpeg'\)$"):
            variant("jpeg", jpeg_quality=float("nan"))

    def test_official_style_folder_names(self):
        from faig.data.degradations import variant
        from faig.data.layout import variant_folder

        assert variant_folder(variant("blur+noise")) == "Blur2_LRbicx2_noise0.1"
        assert variant_folder(variant("blur1+jpeg")) == "Blur1_LRbicx2_jpeg30"


class TestJpeg:
    def _image(self):
        generator = torch.Generator().manual_seed(4)
        smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 6, generator=generator), size=(32, 48),
                                                 mode="bilinear", align_corners=False)
        return (smooth + 0.05 * torch.rand(1, 3, 32, 48, generator=generator)).clamp(0, 1)

    def test_matches_the_codec_round_trip(self):
        import io

        import numpy as np
        from PIL import Image

        from faig.data.degradations import jpeg, quantize

        image = self._image()
        pixels = quantize(image).mul(255).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=40)
        expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        assert np.array_equal(jpeg(image, 40)[0].permute(1, 2, 0).mul(255).round().byte().numpy(), expected)

    def test_close_to_opencv_and_lossier_at_low_quality(self):
        import cv2
        import numpy as np

        from faig.data.degradations import jpeg, quantize

        image = self._image()
        bgr = quantize(image).mul(255).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()[..., ::-1].copy()
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 40])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float64)
        ours = jpeg(image, 40)[0].permute(1, 2, 0).mul(255).double().numpy()
        assert ok and np.abs(ours - decoded).mean() < 1.0
        error = [float((jpeg(image, q) - quantize(image)).abs().mean()) for q in (10, 40, 95)]
        assert error[0] > error[1] > error[2]

    def test_degrade_puts_jpeg_last_and_stays_8_bit(self):
        from faig.data.degradations import Degradation, degrade

        image = self._image()
        plain = degrade(image, Degradation(2, noise_sigma=0.05), torch.Generator().manual_seed(1))
        compressed = degrade(image, Degradation(2, noise_sigma=0.05, jpeg_quality=20), torch.Generator().manual_seed(1))
        assert compressed.shape == plain.shape and not torch.equal(compressed, plain)
        assert torch.equal(compressed.mul(255).round(), compressed.mul(255))

    def test_a_sampler_without_jpeg_draws_what_it_always_drew(self):
        from faig.data.degradations import DegradationSampler, sample_degradations

        generator = torch.Generator().manual_seed(7)
        draws = sample_degradations(DegradationSampler(2, 0.5, (2.0,), 0.5, (0.1,)), 8, generator)
        replay = torch.Generator().manual_seed(7)
        picks = torch.rand(8, 2, generator=replay)
        torch.randint(1, (8,), generator=replay), torch.randint(1, (8,), generator=replay)
        assert [d.blur_sigma is not None for d in draws] == (picks[:, 0] < 0.5).tolist()
        assert torch.equal(generator.get_state(), replay.get_state())
        mixed = sample_degradations(DegradationSampler(2, jpeg_prob=1.0, jpeg_qualities=(20, 60)), 16, generator)
        assert {d.jpeg_quality for d in mixed} == {20, 60}


@pytest.mark.parametrize("name,probs,levels", [
    ("blur", (1.0, 0.0, 0.0), ((2.0,), (0.1,), (30,))), ("noise0.05", (0.0, 1.0, 0.0), ((2.0,), (0.05,), (30,))),
    ("jpeg50", (0.0, 0.0, 1.0), ((2.0,), (0.1,), (50,)))])
def test_a_variant_sampler_always_draws_its_variant(name, probs, levels):
    """A re-training task's data (Table 3, and beyond the paper JPEG or any level): every draw is the variant."""
    from faig.data.degradations import sample_degradations, variant_sampler

    sampler = variant_sampler(name, scale=2)
    assert (sampler.blur_prob, sampler.noise_prob, sampler.jpeg_prob) == probs
    assert (sampler.blur_sigmas, sampler.noise_sigmas, sampler.jpeg_qualities) == levels
    drawn = sample_degradations(sampler, 5, torch.Generator().manual_seed(0))
    assert set(drawn) == {variant(name)}


class TestExclusiveKinds:
    """A mix whose named kinds are one choice: at most one of them per sample, each at its probability."""

    MIX = DegradationSampler(2, blur_prob=0.5, noise_prob=0.25, jpeg_prob=0.25, exclusive_kinds=("noise", "jpeg"))

    def test_never_both_and_each_at_its_probability(self):
        drawn = sample_degradations(self.MIX, 4000, torch.Generator().manual_seed(3))
        blurred = np.array([d.blur_sigma is not None for d in drawn])
        noisy = np.array([d.noise_sigma is not None for d in drawn])
        compressed = np.array([d.jpeg_quality is not None for d in drawn])
        assert not (noisy & compressed).any()
        assert abs(noisy.mean() - 0.25) < 0.03 and abs(compressed.mean() - 0.25) < 0.03
        assert abs(blurred.mean() - 0.5) < 0.03
        clean = ~blurred & ~noisy & ~compressed
        assert abs(clean.mean() - 0.25) < 0.03  # the paper's quarter; independent draws give 0.5 * 0.75 * 0.75
        assert abs((blurred & compressed).mean() - 0.125) < 0.03  # blur stays independent of the choice

    def test_draws_the_same_random_numbers_as_independent_kinds(self):
        independent = replace(self.MIX, exclusive_kinds=())
        generators = [torch.Generator().manual_seed(5) for _ in range(2)]
        one, other = (sample_degradations(mix, 64, g) for mix, g in zip((self.MIX, independent), generators))
        assert torch.equal(generators[0].get_state(), generators[1].get_state())
        assert [d.blur_sigma for d in one] == [d.blur_sigma for d in other]
        assert [d.noise_sigma for d in one] == [d.noise_sigma for d in other]  # noise's share is the first interval

    def test_a_kind_at_probability_zero_leaves_the_rest(self):
        mix = DegradationSampler(2, noise_prob=0.5, exclusive_kinds=("jpeg", "noise"))
        drawn = sample_degradations(mix, 400, torch.Generator().manual_seed(0))
        assert {d.jpeg_quality for d in drawn} == {None}
        assert 0.4 < np.mean([d.noise_sigma is not None for d in drawn]) < 0.6

    @pytest.mark.parametrize("kwargs, message", [
        (dict(exclusive_kinds=("noise", "jpg")), r"exclusive_kinds must name two or more of blur, noise, jpeg once each, "
                                                 r"got \['noise', 'jpg'\]"),
        (dict(exclusive_kinds=("noise",)), "exclusive_kinds must name two or more"),
        (dict(exclusive_kinds=("noise", "noise")), "exclusive_kinds must name two or more"),
        (dict(noise_prob=0.75, jpeg_prob=0.5, exclusive_kinds=("noise", "jpeg")),
         "the probabilities of the exclusive kinds noise, jpeg sum to 1.25: one choice among them needs a sum of at most 1"),
    ])
    def test_refuses_a_choice_it_cannot_draw(self, kwargs, message):
        with pytest.raises(FaigError, match=f"^{message}"):
            DegradationSampler(2, **kwargs)

    def test_a_training_configuration_keeps_it(self):
        from faig.models.registry import ArchConfig
        from faig.training.config import TrainConfig

        config = TrainConfig(arch=ArchConfig("srresnet", 2, width=8, depth=1), degradations=self.MIX)
        again = TrainConfig.from_dict(json.loads(config.to_json()))
        assert again == config and again.degradations.exclusive_kinds == ("noise", "jpeg")
