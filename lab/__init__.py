"""The detector laboratory, offline: labelled data and leak-free splits, the corpus and its measure cache,
held-out folds, fitting the probe and the likelihood calibration, evaluation and its reports. The
scorer never imports it; what it fits ships as artifacts the scorer's registry loads
(scorer/detectors/calibrations/)."""
