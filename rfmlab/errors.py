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


def options(cls, *, d: dict | None, where: str):
    """``cls(**d)`` for a config section ``where`` (a dataclass); an unknown key is a ConfigError naming the valid
    ones."""
    d = dict(d or {})
    known = sorted(cls.__dataclass_fields__)
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ConfigError(f"unknown {where} option(s) {unknown}; valid are {known}")
    return cls(**d)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM from a scheduler, ``kill`` or SLURM's pre-emption;
    SIGHUP): handled like Ctrl-C, so the run is marked KILLED with ``error.txt`` and the trial in progress fails in
    the study (Optuna fails a trial on a KeyboardInterrupt), leaving a resumable search."""

    def __init__(self, signum: int):
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"{self.name}: the process was asked to stop")
