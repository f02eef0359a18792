"""The two networks the paper analyses (Sec. 5.1), their registry and checkpoint I/O."""
