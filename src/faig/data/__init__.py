"""Images, the degradation model of Eq. 1, the embedded splits and training patches."""
