import numpy as np
import pytest
import torch

from faig.data.images import list_images, mod_crop, read_image, tensor_to_uint8, write_image
from faig.data.layout import degraded_pairs, variant_folder, write_layout
from faig.data.degradations import variant
from faig.data.splits import EMBEDDED_SPLITS, embedded_split, folder_images, load_images, tiles
from faig.errors import FaigError


def test_png_round_trip_is_8bit_exact(tmp_path):
    image = torch.randint(0, 256, (1, 3, 10, 12)).float() / 255
    write_image(tmp_path / "x.png", image)
    torch.testing.assert_close(read_image(tmp_path / "x.png"), image)


def test_gray_rgba_and_16bit_are_converted(tmp_path):
    import imageio.v3 as iio

    gray = (np.arange(64, dtype=np.uint8) * 4).reshape(8, 8)
    rgba = np.dstack([gray, gray // 2, gray // 3, np.full_like(gray, 7)])
    deep = (np.arange(192, dtype=np.uint16) * 300).reshape(8, 8, 3)
    iio.imwrite(tmp_path / "gray.png", gray)
    iio.imwrite(tmp_path / "rgba.png", rgba)
    iio.imwrite(tmp_path / "deep.tif", deep)
    g = read_image(tmp_path / "gray.png")
    assert g.shape == (1, 3, 8, 8) and torch.equal(g[0, 0], g[0, 2])
    assert g[0, 0, 0, 1].item() == pytest.approx(4 / 255)
    r = read_image(tmp_path / "rgba.png")
    assert r.shape == (1, 3, 8, 8) and r[0, 1, 7, 7].item() == pytest.approx((252 // 2) / 255)
    d = read_image(tmp_path / "deep.tif")
    assert d.dtype == torch.float32 and d[0, 2, 7, 7].item() == pytest.approx(191 * 300 / 65535, abs=1e-6)


def test_bad_image_files(tmp_path):
    with pytest.raises(FaigError, match="image not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(FaigError, match="cannot read image"):
        read_image(tmp_path / "corrupt.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FaigError, match="no images"):
        list_images(tmp_path / "empty")


def test_a_damaged_file_whose_name_is_no_utf8_is_a_faig_error(tmp_path):
    """Pillow (and tifffile for TIFF) decode, never a fallback imageio picks: OpenCV, installed with
    the tests, crashed the process on such a name."""
    import os

    damaged = tmp_path / os.fsdecode(b"\xff.png")
    damaged.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(FaigError, match="cannot read image"):
        read_image(damaged)


def test_a_photo_whose_name_is_no_utf8_gets_its_noise_seed(tmp_path):
    import os

    from faig.data.degradations import image_seed

    assert image_seed(os.fsdecode(b"\xff")) != image_seed(os.fsdecode(b"\xfe"))


def test_hidden_files_are_not_images_of_the_set(tmp_path):
    """macOS's ``._x.png`` and an interrupted write's ``.x.png.tmp1.png`` are not read."""
    write_image(tmp_path / "x.png", torch.zeros(1, 3, 4, 4))
    (tmp_path / "._x.png").write_bytes(b"resource fork")
    (tmp_path / ".x.png.k2j3.png").write_bytes(b"")
    assert list_images(tmp_path) == [tmp_path / "x.png"]


def test_two_images_of_one_name_are_refused(tmp_path):
    """`a.jpg` and `a.png` would both be written as `a.png` in the LR folders."""
    write_image(tmp_path / "a.png", torch.zeros(1, 3, 8, 8))
    write_image(tmp_path / "a.jpg", torch.zeros(1, 3, 8, 8))
    with pytest.raises(FaigError, match=r"two images named 'a' in .*: a.jpg and a.png; rename one"):
        load_images(hr_dir=tmp_path, scale=2)


def test_a_layout_is_not_written_over_another_sets_images(tmp_path, hr_folder):
    """Rewriting the same set is fine; images of other names would be read back as part of it."""
    images = load_images(hr_dir=hr_folder, scale=12)
    write_layout(images, tmp_path / "set", variants=("blur",))
    write_layout(images, tmp_path / "set", variants=("blur",))
    write_image(tmp_path / "set" / "Blur2_LRbicx2" / "stranger.png", torch.zeros(1, 3, 4, 4))
    with pytest.raises(FaigError, match=r"Blur2_LRbicx2 already holds images of another set \(stranger.png\); "
                                        "write into an empty --out"):
        write_layout(images, tmp_path / "set", variants=("blur",))


def test_mod_crop():
    assert mod_crop(torch.zeros(1, 3, 50, 37), 12).shape == (1, 3, 48, 36)


def test_embedded_splits_are_disjoint_and_fixed():
    photos = [photo for split in EMBEDDED_SPLITS.values() for photo, _ in split]
    assert len(photos) == len(set(photos))
    discover = embedded_split("discover")
    assert len(discover) == 14 and all(i.hr.shape == (1, 3, 144, 144) for i in discover)
    assert [i.name for i in discover[:3]] == ["chelsea_r0c0", "chelsea_r0c1", "chelsea_r0c2"]
    assert [float(discover[i].hr.sum()) for i in (0, -1)] == pytest.approx([29009.098, 42514.734])  # same pixels
    assert embedded_split("test")[0].name == "motorcycle_left_r0c0"
    assert len(embedded_split("test")) == 38 and len(embedded_split("calibrate")) == 25
    with pytest.raises(FaigError, match="unknown split"):
        embedded_split("val")


def test_an_empty_folder_path_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "here.png", torch.rand(1, 3, 8, 8))
    for read in (lambda: folder_images(""), lambda: load_images(hr_dir="")):
        with pytest.raises(FaigError, match="an image folder of '' names no folder"):
            read()


def test_folder_images_mod_crop_to_scale(hr_folder):
    images = folder_images(hr_folder, scale=4)
    assert [i.name for i in images] == ["img0", "img1", "img2"]
    assert images[1].hr.shape == (1, 3, 60, 48)
    assert load_images(hr_dir=hr_folder, scale=3)[2].hr.shape == (1, 3, 48, 72)


def test_official_layout_round_trip(hr_folder, tmp_path):
    images = folder_images(hr_folder, 12)
    counts = write_layout(images, tmp_path / "set", scale=2)
    assert set(counts) == {"GTmod12", "LRbicx2", "Blur2_LRbicx2", "LRbicx2_noise0.1", "Blur2_LRbicx2_noise0.1"}
    assert variant_folder(variant("blur+noise", 4)) == "Blur2_LRbicx4_noise0.1"
    reread = folder_images(tmp_path / "set", 2)  # reads GTmod12/
    for name in ("clean", "blur", "noise", "blur+noise"):
        from_disk = degraded_pairs(reread, variant(name), folder=tmp_path / "set")
        synthesised = degraded_pairs(images, variant(name))
        for a, b in zip(from_disk, synthesised):
            torch.testing.assert_close(a.lr, b.lr, atol=1e-6, rtol=0)
            torch.testing.assert_close(a.hr, b.hr)


def test_channel_shuffle_permutes_channels_and_is_off_by_default():
    from faig.data.patches import augment

    patch = torch.stack([torch.full((4, 4), value) for value in (0.1, 0.5, 0.9)])[None]
    seen = set()
    for seed in range(40):
        shuffled = augment(patch, torch.Generator().manual_seed(seed), channel_shuffle=True)
        values = tuple(round(float(shuffled[0, c, 0, 0]), 1) for c in range(3))
        assert sorted(values) == [0.1, 0.5, 0.9]
        seen.add(values)
        plain_generator = torch.Generator().manual_seed(seed)
        plain = augment(patch, plain_generator)
        assert [round(float(plain[0, c, 0, 0]), 1) for c in range(3)] == [0.1, 0.5, 0.9]
        # the plain draw consumes the same random numbers as before the option existed
        reference = torch.Generator().manual_seed(seed)
        torch.rand(3, generator=reference)
        assert torch.equal(plain_generator.get_state(), reference.get_state())
    assert len(seen) == 6


def test_channel_gain_scales_each_channel_within_its_range():
    from faig.data.patches import augment

    patch = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    gains = []
    for seed in range(40):
        tinted = augment(patch, torch.Generator().manual_seed(seed), channel_gain=0.5)
        plain = augment(patch, torch.Generator().manual_seed(seed))
        ratio = tinted / plain
        per_channel = ratio.amax(dim=(2, 3))
        torch.testing.assert_close(ratio.amin(dim=(2, 3)), per_channel)
        assert 0.5 <= float(per_channel.min()) and float(per_channel.max()) <= 1
        gains.append(per_channel)
    spread = torch.cat(gains)
    assert float(spread.min()) < 0.6 and float(spread.max()) > 0.9
    assert not torch.allclose(spread[:, 0], spread[:, 1])


def test_an_unreadable_image_is_described_in_words(tmp_path):
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(FaigError) as error:
        read_image(tmp_path / "corrupt.png")
    assert str(error.value) == f"cannot read image {tmp_path / 'corrupt.png'}: not an image file, or a damaged one"


@pytest.mark.parametrize("bad, count", [((np.nan,), "1 pixel value is"), ((np.inf, -np.inf), "2 pixel values are")])
def test_a_float_image_with_non_finite_pixels_is_refused_naming_the_file(tmp_path, bad, count):
    import imageio.v3 as iio

    array = np.full((4, 4, 3), 0.5, np.float32)
    array[1, 2, : len(bad)] = bad
    iio.imwrite(tmp_path / "float.tif", array)
    with pytest.raises(FaigError) as error:
        read_image(tmp_path / "float.tif")
    assert str(error.value) == (f"cannot read image {tmp_path / 'float.tif'}: {count} not finite (nan or infinity); "
                                "a float image must hold finite numbers")


def test_finite_float_pixels_outside_0_1_are_still_clipped(tmp_path):
    import imageio.v3 as iio

    array = np.full((4, 4, 3), 0.5, np.float32)
    array[0, 0] = (-2.0, 3.0, 0.25)
    iio.imwrite(tmp_path / "float.tif", array)
    assert read_image(tmp_path / "float.tif")[0, :, 0, 0].tolist() == [0.0, 1.0, 0.25]


def test_an_image_too_large_for_pillow_is_said_to_be_too_large(tmp_path, monkeypatch):
    from PIL import Image

    write_image(tmp_path / "big.png", torch.rand(1, 3, 8, 6))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # Pillow refuses more than twice this: 20 pixels
    with pytest.raises(FaigError) as error:
        read_image(tmp_path / "big.png")
    assert str(error.value) == f"cannot read image {tmp_path / 'big.png'}: the image is too large (48 pixels; " \
                               "Pillow reads at most 20)"


def test_a_stored_lr_image_of_the_wrong_size_is_refused_naming_the_file(tmp_path):
    write_image(tmp_path / "set" / "GTmod12" / "0.png", torch.rand(1, 3, 48, 36))
    write_image(tmp_path / "set" / "LRbicx2" / "0.png", torch.rand(1, 3, 10, 10))
    write_image(tmp_path / "set" / "LRbicx2_noise0.1" / "0.png", torch.rand(1, 3, 24, 18))
    images = folder_images(tmp_path / "set", 2)
    with pytest.raises(FaigError) as error:
        degraded_pairs(images, variant("clean"), folder=tmp_path / "set")
    assert str(error.value) == (f"{tmp_path / 'set' / 'LRbicx2' / '0.png'} is 10x10 pixels; the LR image of its "
                                "36x48 GT image at x2 must be 18x24")
    pair, = degraded_pairs(images, variant("noise"), folder=tmp_path / "set")  # the right size is read
    assert pair.lr.shape == (1, 3, 24, 18)


@pytest.mark.parametrize("image, message", [
    (torch.rand(2, 3, 4, 4), r"write_image expects one image \(N = 1\), got shape \(2, 3, 4, 4\)"),
    (torch.rand(1, 1, 4, 4), r"write_image expects 3-channel images, got shape \(1, 1, 4, 4\)"),
    (torch.rand(1, 1, 3, 4, 4), r"write_image expects NCHW images \(4 dims\), got shape \(1, 1, 3, 4, 4\)"),
    (torch.rand(1, 3, 0, 4), r"write_image expects images with pixels, got shape \(1, 3, 0, 4\)"),
])
def test_write_image_checks_the_shape(tmp_path, image, message):
    with pytest.raises(FaigError, match=message):
        write_image(tmp_path / "x.png", image)
    assert not list(tmp_path.iterdir())


def test_write_image_refuses_a_suffix_that_is_no_image_format(tmp_path):
    with pytest.raises(FaigError, match=r"cannot write image .*x\.txt: the suffix must be one of \.png"):
        write_image(tmp_path / "x.txt", torch.rand(1, 3, 4, 4))
    write_image(tmp_path / "x.JPG", torch.rand(1, 3, 4, 4))
    assert read_image(tmp_path / "x.JPG").shape == (1, 3, 4, 4)


def test_tensor_to_uint8_takes_one_image_with_or_without_the_batch_axis():
    image = torch.rand(3, 4, 5)
    assert np.array_equal(tensor_to_uint8(image), tensor_to_uint8(image[None]))
    assert tensor_to_uint8(image).shape == (4, 5, 3)
    with pytest.raises(FaigError, match="tensor_to_uint8 expects one image"):
        tensor_to_uint8(torch.rand(2, 3, 4, 5))


def test_too_many_tiles_is_a_faig_error():
    with pytest.raises(FaigError, match="photo has only 4 tiles of 144px, not 5"):
        tiles(torch.rand(1, 3, 300, 300), "photo", 5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(blur_sigma=0.0), "--blur-sigma must be a finite number > 0, got 0.0"),
    (dict(blur_sigma=float("nan")), "--blur-sigma must be a finite number > 0, got nan"),
    (dict(noise_sigma=-1.0), "--noise-sigma must be a finite number > 0, got -1.0"),
    (dict(noise_sigma=float("inf")), "--noise-sigma must be a finite number > 0, got inf"),
    (dict(scale=0), "--scale must be an integer >= 1, got 0"),
    (dict(seed=20_000_000_000_000), r"--seed must be an integer in \[0, 4294967295\], got 20000000000000"),
    (dict(seed=-1), r"--seed must be an integer in \[0, 4294967295\], got -1"),
])
def test_write_layout_refuses_bad_options_before_writing(tmp_path, hr_folder, kwargs, message):
    with pytest.raises(FaigError, match=f"^{message}$"):
        write_layout(folder_images(hr_folder, 12), tmp_path / "set", **kwargs)
    assert not (tmp_path / "set").exists()


def test_write_layout_refuses_an_output_folder_that_is_a_file(tmp_path, hr_folder):
    (tmp_path / "set").write_text("")
    with pytest.raises(FaigError, match="output folder .*set is a file"):
        write_layout(folder_images(hr_folder, 12), tmp_path / "set")
