"""The one exception type that the CLI turns into a one-line message and a non-zero exit."""


class FaigError(ValueError):
    """A problem with the user's input or files, explained in one line.

    A ``ValueError``, so that code written against the standard "bad value" exception catches it too.
    """
