"""Filter attribution (Sec. 4): FAIG (Eq. 5-6), discriminative filters (Eq. 7) and the baselines of Sec. 5.2."""

from faig.attribution.api import AttributeConfig, attribute, run_attribute
from faig.attribution.faig import faig_scores
from faig.attribution.result import Attribution
from faig.attribution.store import load_attribution, save_attribution
from faig.names import METHODS

__all__ = ["METHODS", "AttributeConfig", "Attribution", "attribute", "faig_scores", "load_attribution",
           "run_attribute", "save_attribution"]
