"""Errors and warnings that describe problems with the user's input, not bugs in this package.

The CLI turns an AnalysisError into one `error: ...` line and exit status 2, so every message
must name the file (or argument) and the problem on its own.
"""


class AnalysisError(Exception):
    """Input the analysis cannot use: a foreign, newer, truncated or malformed file, a bad option."""


class AnalysisWarning(UserWarning):
    """Input the analysis can still use after skipping part of it (e.g. a half-written run)."""
