"""veritext's composition root: the CLI, the `up` supervisor and the embedded database launcher.

It reads settings from the environment, builds the components of the other packages and runs
them; it holds no pipeline logic of its own.
"""
