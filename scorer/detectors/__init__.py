"""Detectors: one small interface, real implementations, and a registry of named factories."""

from scorer.detectors.base import Detector
from scorer.detectors.registry import available_detectors, load_detector

__all__ = ["Detector", "available_detectors", "load_detector"]
