"""The study configuration: defaults reproduce the contract; wrong options are reported like wrong data."""

from __future__ import annotations

import datetime as dt

import pytest

from ketareport.config import AnalysisOptions, load_config
from ketareport.errors import ConfigInvalid


def write(tmp_path, text):
    path = tmp_path / "study.yml"
    path.write_text(text)
    return path


def test_defaults_are_the_contract():
    options = AnalysisOptions()
    assert (options.index_diagnosis, options.conf_level, options.difference_test) == ("crps", 0.95, "welch")
    assert (options.relief_method, options.relief_conf_level) == ("bernoulli", 0.90)
    lasting, long = options.relief_thresholds
    assert (lasting.name, lasting.days, lasting.inclusive) == ("lasting", 7, True)
    assert (long.name, long.days, long.inclusive) == ("long", 21, False)
    assert lasting.met(7) and not long.met(21) and long.met(21.5)


def test_full_config(tmp_path):
    config = load_config(write(tmp_path, """
study:
  title: A study
  authors: [{name: Ann Author, affiliation: Somewhere}, Ben Author]
  period: {start: 2004-01-01, end: 2009-12-31}
  review_board: Approved
analysis:
  index_diagnosis: Back-Pain
  relief: {method: jeffreys}
report: {page_size: Letter, name: my-report}
"""))
    assert config.study.authors[1].name == "Ben Author"
    assert config.study.period_end == dt.date(2009, 12, 31)
    assert config.analysis.index_diagnosis == "back_pain"
    assert config.analysis.relief_method == "jeffreys"
    assert (config.report.page_size, config.report.name) == ("Letter", "my-report")
    assert config.as_dict()["analysis"]["relief_thresholds"][0]["name"] == "lasting"


def test_every_wrong_option_is_reported(tmp_path):
    with pytest.raises(ConfigInvalid) as error:
        load_config(write(tmp_path, """
study:
  period: {start: 2009-01-01, end: 2004-01-01}
  colour: blue
analysis:
  conf_level: 1.5
  difference_test: student
  relief:
    method: bayes
    thresholds:
      - {name: week, days: -7}
report: {page_size: A5}
extra: 1
"""))
    report = error.value.report()
    for fragment in [
        "study.period.end is '2004-01-01'; is before study.period.start", "study.colour is not a known option",
        "analysis.conf_level is 1.5; must be strictly between 0 and 1",
        "analysis.difference_test is 'student'; must be one of welch, pooled",
        "analysis.relief.method is 'bayes'; must be one of bernoulli",
        "analysis.relief.thresholds[1].days is -7; must be at least 0",
        "report.page_size is 'A5'; must be one of A4, Letter",
        "extra is not a known block",
    ]:
        assert fragment in report, fragment
    assert "study configuration has 8 problems" in report


def test_unparsable_yaml(tmp_path):
    with pytest.raises(ConfigInvalid, match="1 problem"):
        load_config(write(tmp_path, "analysis: [unclosed"))
