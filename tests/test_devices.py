import pytest
import torch

from faig.errors import FaigError
from faig.devices import resolve_device


def test_resolve_device_names_cpu_and_defaults_to_what_is_present():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", "mps"])
def test_resolve_device_refuses_names_it_cannot_run_on(name):
    with pytest.raises(FaigError, match=f"unknown device '{name}'; use cpu, cuda or cuda:N"):
        resolve_device(name)


def test_resolve_device_refuses_cuda_the_machine_lacks(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(FaigError, match="this machine has no CUDA device"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(FaigError, match=r"'cuda:3' asked for, but this machine has 1 CUDA device\(s\)"):
        resolve_device("cuda:3")
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
