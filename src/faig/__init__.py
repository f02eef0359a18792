"""faig: Filter Attribution based on Integral Gradient for blind super-resolution networks.

Implements "Finding Discriminative Filters for Specific Degradations in Blind Super-Resolution"
(NeurIPS 2021). The data flows one way: ``data`` (Eq. 1 degradations, splits) -> ``models``
-> ``training`` -> ``attribution`` -> ``experiments`` -> ``report``.
"""

from faig.errors import FaigError

__version__ = "0.1.0"
__all__ = ["FaigError", "__version__"]
