"""Filter attribution (Sec. 4): FAIG (Eq. 5-6), discriminative filters (Eq. 7) and the baselines of Sec. 5.2."""
