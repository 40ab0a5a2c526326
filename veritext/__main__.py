"""`python -m veritext` runs the CLI (the `up` supervisor starts its workers this way)."""

from veritext.cli import main

main()
