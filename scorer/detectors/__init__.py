"""Detectors: one small interface, real implementations, and a registry of named factories."""

from scorer.detectors.base import Detector, Verdict
from scorer.detectors.registry import available_detectors, load_detector

__all__ = ["Detector", "Verdict", "available_detectors", "load_detector"]
