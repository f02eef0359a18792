"""faig: Filter Attribution based on Integral Gradient for blind super-resolution networks.

Implements "Finding Discriminative Filters for Specific Degradations in Blind Super-Resolution"
(NeurIPS 2021). The data flows one way: ``data`` (Eq. 1 degradations, splits) -> ``models``
-> ``training`` -> ``attribution`` -> ``experiments`` -> ``report``.
"""

from faig.errors import FaigError

__version__ = "0.1.0"

# The public API, imported on first use so that ``faig --help`` does not wait for torch.
_LAZY = {name: "faig.attribution.methods" for name in
         ("FAIG", "AbsoluteChange", "ModifiedIG", "RandomFilters", "discriminative", "filter_mask", "masked",
          "modulated")}
_LAZY.update({name: "faig.attribution.groups" for name in ("attention_heads", "filter_groups", "group_scores")})
_LAZY["load_model"] = "faig.models.checkpoints"


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'faig' has no attribute {name!r}")


__all__ = ["FAIG", "AbsoluteChange", "FaigError", "ModifiedIG", "RandomFilters", "__version__", "attention_heads",
           "discriminative", "filter_groups", "filter_mask", "group_scores", "load_model", "masked", "modulated"]
