"""Boundary models of veritext: events on the log, HTTP bodies, topic names, the error tree.

Nothing here does I/O; every other package depends on this one and on nothing else of ours.
"""
