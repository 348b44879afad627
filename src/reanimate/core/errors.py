"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """Bad input or a bad request: the CLI prints the message as one line and exits non-zero.

    The message says what was wrong, with the value, and what to do about it. It names options by
    their Python parameter names in backticks (`finetune_steps`), as the API's caller wrote them;
    the CLI shows each as its command's flag (--finetune-steps) instead (`cli.options.as_flags`).
    """


def brief(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's text, shortened: the cause inside a one-line UserError
    (library messages can run to paragraphs, like torch's weights-only advice)."""
    line = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
    return line if len(line) <= limit else line[:limit - 1] + "…"
