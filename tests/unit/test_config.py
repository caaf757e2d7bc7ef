"""The study configuration: defaults reproduce the contract; wrong options are reported like wrong data."""

from __future__ import annotations

import datetime as dt

import pytest

from ketareport.config import AnalysisOptions, StudyConfig, load_config
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
    assert config.as_dict()["analysis"]["relief"]["thresholds"][0]["name"] == "lasting"


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
        "study.period is {'start': '2009-01-01', 'end': '2004-01-01'}; end 2004-01-01 is before start 2009-01-01", "study.colour is not a known option",
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


def problems(tmp_path, text) -> list[str]:
    with pytest.raises(ConfigInvalid) as error:
        load_config(write(tmp_path, text))
    return [problem.message for problem in error.value.problems]


@pytest.mark.parametrize("text, expected", [
    ("analysis: {relief: {thresholds: [{name: week}]}}", "analysis.relief.thresholds[1].days is missing; it is required"),
    ("analysis: {relief: {thresholds: []}}", "analysis.relief.thresholds is []; must list at least one threshold"),
    ("analysis: {relief: {thresholds: [{name: a, days: 7}, {name: a, days: 8}]}}", "names a threshold twice: a"),
    ("analysis: {relief: {thresholds: [{name: 2 weeks, days: 14}]}}", "must be a short identifier"),
    ("analysis: {relief: {thresholds: [{name: a, days: 7, inclusive: maybe}]}}", "inclusive is 'maybe'; must be true or false"),
    ("study: {authors: [{name: A, affiliation: 3}]}", "study.authors[1].affiliation is 3; must be text"),
    ("study: {authors: [{affiliation: Somewhere}]}", "study.authors[1].name is missing; it is required"),
    ("study: {keywords: [ketamine, 2012]}", "study.keywords[2] is 2012; must be text"),
    ("study: {keywords: ketamine}", "study.keywords is 'ketamine'; must be a list"),
    ("study: {title: 2012}", "study.title is 2012; must be text"),
    ("study: {period: {start: 2004}}", "study.period.start is 2004; must be a date YYYY-MM-DD"),
    ("study: {period: {start: 2004-01-01}}", "study.period.end is missing; it is required"),
    ("analysis: {conf_level: '0.95'}", "analysis.conf_level is '0.95'; must be a number"),
    ("analysis: {conf_level: true}", "analysis.conf_level is True; must be a number"),
    ("analysis: {sensitivity_model: 'yes'}", "analysis.sensitivity_model is 'yes'; must be true or false"),
    ("analysis: {index_diagnosis: ' - '}", "analysis.index_diagnosis is ' - '; must name a diagnosis"),
    ("report: {status: submitted}", "report.status is 'submitted'; must be one of draft, final"),
    ("report: {suppress_below: 1}", "report.suppress_below is 1; must be at least 2"),
    ("report: {suppress_below: 2.5}", "report.suppress_below is 2.5; must be a whole number"),
    ("report: {name: my report}", "report.name is 'my report'; must be a file name"),
    ("report: {data_lock: yesterday}", "report.data_lock is 'yesterday'; must be a date YYYY-MM-DD"),
    ("labels: {crps: CRPS, '-CRPS': Complex}", "'-CRPS' and 'crps' are the same diagnosis"),
    ("labels: [crps]", "labels is ['crps']; must be a mapping"),
    ("labels: {' - ': X}", "' - ' names no diagnosis"),
    ("data: {columns: {vas: VAS}}", "data.columns is {'vas': 'VAS'}; has keys that are not data-dictionary columns: vas"),
    ("data: {sheets: 2}", "data.sheets is not a known option (known: columns, engine, infusions, patients, spark_master)"),
    ("analysis: {relief: {colour: 1}}", "analysis.relief.colour is not a known option (known: conf_level, method, thresholds)"),
    ("[1, 2]", "(top level) is [1, 2]; must be a mapping"),
])
def test_each_wrong_option_errors_properly(tmp_path, text, expected):
    found = problems(tmp_path, text)
    assert any(expected in message for message in found), found


def test_new_fields_are_read(tmp_path):
    config = load_config(write(tmp_path, """
study: {short_title: Ketamine, protocol: IRB 123}
report: {version: '1.2', status: final, date: 2012-01-31, data_lock: 2011-12-15, suppress_below: 5}
labels: {HIV-neuropathy: HIV neuropathy}
data: {patients: pts, columns: {vas_pre: vas_before}}
"""))
    assert (config.study.short_title, config.study.protocol) == ("Ketamine", "IRB 123")
    report = config.report
    assert (report.version, report.status, report.suppress_below) == ("1.2", "final", 5)
    assert (report.date, report.data_lock) == (dt.date(2012, 1, 31), dt.date(2011, 12, 15))
    assert config.labels == {"hiv_neuropathy": "HIV neuropathy"}
    assert (config.data.patients, config.data.infusions, config.data.columns) == ("pts", "infusions", {"vas_pre": "vas_before"})


def test_blank_keys_mean_not_given(tmp_path):
    config = load_config(write(tmp_path, "study:\n  title:\nanalysis:\nreport:\n"))
    assert "a title (study.title)" in config.missing_metadata()
    assert config.analysis == AnalysisOptions()


def test_missing_metadata_lists_what_a_submission_needs(tmp_path):
    assert StudyConfig().missing_metadata() == (
        "a study.yml (defaults were used)", "a title (study.title)", "authors (study.authors)",
        "a review-board statement (study.review_board)", "the study period (study.period)",
    )
    config = load_config(write(tmp_path, "study: {title: T, authors: [A], review_board: IRB, period: {start: 2004-01-01, end: 2004-12-31}}"))
    assert config.missing_metadata() == ()


def test_dumped_configuration_reads_back_the_same(tmp_path):
    original = load_config(write(tmp_path, """
study: {title: T, authors: [A, {name: B, affiliation: X}], period: {start: 2004-01-01, end: 2009-12-31}, keywords: [k]}
analysis: {index_diagnosis: Back Pain, relief: {method: wilson, thresholds: [{name: week, days: 7.5}]}}
report: {status: final, data_lock: 2010-01-01}
labels: {back pain: Low back pain}
"""))
    text = original.study_yml()
    assert "null" not in text and "source" not in text
    (tmp_path / "again").mkdir()
    again = load_config(write(tmp_path / "again", text))
    assert again.as_study_yml() == original.as_study_yml()
    assert (again.analysis, again.report, again.labels, again.study) == (original.analysis, original.report, original.labels, original.study)


def test_defaults_dump_without_a_title_and_keep_their_missing_metadata(tmp_path):
    text = StudyConfig().study_yml()
    assert "title" not in text and "null" not in text
    again = load_config(write(tmp_path, text))
    assert again.missing_metadata() == StudyConfig().missing_metadata()[1:]


def test_init_template_reads_as_the_defaults(tmp_path):
    from ketareport.config_docs import study_yml_template

    config = load_config(write(tmp_path, study_yml_template()))
    assert config.as_study_yml() == StudyConfig().as_study_yml()


def test_a_threshold_without_a_label_is_named_by_its_rule():
    """The name is an identifier ("week"): "the estimated probability of week" is not a sentence."""
    from ketareport.config import ReliefThreshold

    assert ReliefThreshold(name="week", days=7).label == "Relief for at least 7 days"
    assert ReliefThreshold(name="month", days=30.5, inclusive=False).label == "Relief for more than 30.5 days"
    assert ReliefThreshold(name="week", days=7, label="Lasting relief").label == "Lasting relief"


def test_a_data_lock_before_the_period_is_one_config_problem_not_a_problem_per_infusion(tmp_path):
    import yaml

    from ketareport.config import parse_config
    from ketareport.errors import ConfigInvalid

    text = "study: {period: {start: 2005-01-01, end: 2006-12-31}}\nreport: {data_lock: 2004-06-01}\n"
    with pytest.raises(ConfigInvalid) as error:
        parse_config(yaml.safe_load(text), "study.yml")
    assert [str(problem) for problem in error.value.problems] == [
        "study.yml: report.data_lock 2004-06-01 is before the start of study.period (2005-01-01)"]


def test_choices_are_read_in_any_case():
    import yaml

    from ketareport.config import parse_config

    config = parse_config(yaml.safe_load("report: {page_size: letter, status: FINAL}\nanalysis: {difference_test: Pooled}"), "s")
    assert (config.report.page_size, config.report.status, config.analysis.difference_test) == ("Letter", "final", "pooled")


def test_yes_no_options_read_words_and_say_what_they_expect():
    import yaml

    from ketareport.config import parse_config

    assert parse_config(yaml.safe_load("report: {publish_results: 'yes'}"), "s").report.publish_results is True
    assert parse_config(yaml.safe_load("report: {publish_results: 'off'}"), "s").report.publish_results is False
    with pytest.raises(ConfigInvalid) as error:
        parse_config(yaml.safe_load("report: {publish_results: maybe}\ndata: {engine: oracle}"), "study.yml")
    assert [str(problem) for problem in error.value.problems] == [
        "study.yml: report.publish_results is 'maybe'; must be true or false",
        "study.yml: data.engine is 'oracle'; must be one of duckdb, postgres, spark",
    ]


def test_a_configuration_never_changes_and_a_copy_says_what_it_was_given():
    config = StudyConfig()
    with pytest.raises(AttributeError):
        config.analysis.conf_level = 0.9
    report = config.report.model_copy(update={"suppress_below": 5})
    assert (report.suppress_below, config.report.suppress_below) == (5, None)
    assert "suppress_below" in report.given and "suppress_below" not in config.report.given
