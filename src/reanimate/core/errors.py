"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """Bad input or a bad request: the CLI prints the message as one line and exits non-zero.

    The message says what was wrong, with the value, and what to do about it.
    """
