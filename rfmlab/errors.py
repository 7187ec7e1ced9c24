"""User-facing errors: the CLI prints these as one line and exits with code 2 (no traceback)."""


class RfmlabError(Exception):
    """An error caused by the user's input or configuration; the message names the problem and the fix."""


class ConfigError(RfmlabError):
    """A configuration value is invalid."""


class DataError(RfmlabError):
    """The input data cannot be used (missing columns, bad dates, empty after cleaning...)."""


class TooFewCustomers(DataError):
    """The customers cannot support the requested clustering (fewer than the clusters asked for, say); a
    search prunes such a trial with this message as its reason."""
