"""The one exception type that the CLI turns into a one-line message and a non-zero exit."""


class FaigError(Exception):
    """A problem with the user's input or files, explained in one line."""
