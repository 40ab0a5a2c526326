"""Calibration of the likelihood detector: labelled data, leak-free splits, fitting and evaluation."""
