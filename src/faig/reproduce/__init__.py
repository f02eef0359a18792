"""``faig reproduce``: the paper's experiments (Sec. 5) on each architecture, judged against its
claims and written up as a report.

config.py (what a run does), steps.py (one function per experiment step), aggregate.py (over
seeds), findings.py (the paper's claims and their thresholds), run.py (orchestration and the step
cache). What it measures is typed in :mod:`faig.results`, which ``report/`` reads.
"""

from faig.reproduce.run import reproduce

__all__ = ["reproduce"]
