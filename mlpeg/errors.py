"""Errors a user can cause, each rendered as one clear sentence by the CLI."""


class MlpegError(Exception):
    """A problem with user input or environment, explained in one sentence.

    The CLI prints the message without a traceback and exits non-zero.
    """


class ConfigError(MlpegError):
    """A YAML file (models.yml, benchmark.yml, category.yml) is malformed."""


class DataError(MlpegError):
    """A data file is missing, unreadable or fails its checksum."""


class PartRejected(MlpegError):
    """A landing Parquet part failed validation and was not ingested."""


class WarehouseBusy(MlpegError):
    """Another process holds the warehouse for writing past the wait limit."""
