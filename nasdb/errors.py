"""Errors that carry a one-line message for the user; the CLI prints them without a traceback."""


class NasdbError(Exception):
    """Base of every error nasdb reports to a user."""


class IngestError(NasdbError):
    """An upstream file is missing, truncated, corrupt or not in the expected format."""


class LookupMiss(NasdbError, KeyError):
    """The catalog has no value for an architecture under the asked key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Infeasible(LookupMiss):
    """The source says the architecture cannot be measured under the asked key (e.g. the
    device's compiler rejected it): there is no value, and no surrogate may invent one."""


class UnknownName(NasdbError, ValueError):
    """A space, task, metric, device or source that the catalog does not hold."""


class SurrogateError(NasdbError):
    """A surrogate's model file is missing, corrupt or not the one its record names."""
