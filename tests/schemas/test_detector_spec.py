"""`NAME@VERSION`, formatted and parsed by one rule (schemas/detector_spec.py)."""

from schemas.detector_spec import DetectorSpec


def test_a_spec_reads_back_what_it_writes():
    spec = DetectorSpec("probe", "gemma3-270m-probe-048999c7")
    assert str(spec) == "probe@gemma3-270m-probe-048999c7"
    assert DetectorSpec.parse(f"  {spec} ") == spec
    assert DetectorSpec.parse("probe") == DetectorSpec("probe") and str(DetectorSpec("probe")) == "probe"


def test_a_bare_word_names_a_detector_by_its_name_or_its_version():
    name, version = "probe", "gemma3-270m-probe-048999c7"
    assert DetectorSpec.parse("probe@gemma3-270m-probe-048999c7").matches(name, version)
    assert DetectorSpec.parse("probe").matches(name, version)
    assert DetectorSpec.parse("gemma3-270m-probe-048999c7").matches(name, version)
    assert not DetectorSpec.parse("probe@other").matches(name, version)
    assert not DetectorSpec.parse("likelihood").matches(name, version)
