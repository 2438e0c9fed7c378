"""``python -m archive``: see :mod:`archive.cli`."""

from archive.cli import cli

cli(prog_name="python -m archive")
