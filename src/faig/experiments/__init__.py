"""The paper's experiments (Sec. 5): each takes models and filter rankings or scores and returns
plain data; ``faig.reproduce`` runs them in order and ``faig.report`` turns the data into files."""
