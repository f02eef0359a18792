"""`torchrun` with two CPU processes (gloo) gives the single-process result."""

import subprocess
import sys
import textwrap

import torch

from faig.attribution import load_attribution, run_attribute
from faig.data.images import write_image
from faig.models.checkpoints import save_weights


SCRIPT = textwrap.dedent("""
    import sys
    from faig.attribution import run_attribute
    out, baseline, target, hr = sys.argv[1:]
    run_attribute(out, "faig,ig", baseline=baseline, target=target, hr_dir=hr, steps=3, progress=False)
""")


def test_two_processes_equal_one(tmp_path, tiny_arch, tiny_pair, tiny_images):
    save_weights(tmp_path / "b.safetensors", tiny_pair[0], tiny_arch)
    save_weights(tmp_path / "t.safetensors", tiny_pair[1], tiny_arch)
    for image in tiny_images:
        write_image(tmp_path / "hr" / f"{image.name}.png", image.hr)
    (tmp_path / "run.py").write_text(SCRIPT)
    paths = [str(tmp_path / name) for name in ("two", "b.safetensors", "t.safetensors", "hr")]
    launched = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                               str(tmp_path / "run.py"), *paths], capture_output=True, text=True, timeout=120)
    assert launched.returncode == 0, launched.stderr[-2000:]
    single = run_attribute(tmp_path / "one", "faig,ig", baseline=paths[1], target=paths[2], hr_dir=paths[3],
                           steps=3, progress=False)
    for method in ("faig", "ig"):
        two = load_attribution(tmp_path / "two" / method)
        assert two.metadata["world_size"] == 2 and single[method].metadata["world_size"] == 1
        for name in ("blur", "noise"):
            expected = single[method].per_image[name]
            assert torch.allclose(two.per_image[name], expected, rtol=1e-5, atol=1e-7 * expected.abs().max().item())
            assert torch.allclose(two.scores[name], single[method].scores[name], rtol=1e-5,
                                  atol=1e-7 * expected.abs().max().item())
