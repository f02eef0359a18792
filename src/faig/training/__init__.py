"""Training the baseline and fine-tuning the target network (Sec. 4.1, 5.1)."""
