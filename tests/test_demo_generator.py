"""The demo generator: seeded, byte-for-byte reproducible, and valid at scale."""

from __future__ import annotations

import filecmp

import pandas as pd

from ketareport.demo import DEFAULT_SEED, generate_demo, write_demo
from ketareport.load import load_dataset
from ketareport.validate import validate_dataset

from .conftest import DEMO


def test_defaults_reproduce_the_committed_demo_byte_for_byte(tmp_path):
    written = write_demo(tmp_path)
    committed = sorted(p.name for p in DEMO.iterdir())
    assert sorted(p.name for p in written) == committed
    for path in written:
        assert filecmp.cmp(path, DEMO / path.name, shallow=False), path.name


def test_seeded():
    first, second = generate_demo(200, seed=5), generate_demo(200, seed=5)
    pd.testing.assert_frame_equal(first[1], second[1])
    assert not generate_demo(200, seed=6)[1].equals(first[1])
    assert not generate_demo(seed=DEFAULT_SEED + 1)[1].equals(generate_demo()[1])


def test_demo_design():
    patients, infusions = generate_demo()
    dates = pd.to_datetime(infusions["infusion_date"])
    assert dates.min() >= pd.Timestamp("2004-01-01") and dates.max() <= pd.Timestamp("2009-12-31")
    vas = pd.to_numeric(pd.concat([infusions["vas_pre"], infusions["vas_post"]]).replace("", None)).dropna()
    assert vas.between(0, 10).all()
    assert ((vas * 10).round(9) % 1 == 0).all()  # on the 0.1 grid
    assert (infusions[["midazolam", "ondansetron"]] == "true").all().all()
    counts = infusions.groupby("patient_id").size()
    assert counts.min() >= 2 and counts.median() >= 5


def test_a_large_generated_dataset_is_valid(tmp_path):
    write_demo(tmp_path, patients=2000, seed=3)
    dataset = validate_dataset(load_dataset(tmp_path))
    patients, infusions = dataset.patients, dataset.infusions
    assert len(patients) == 2000
    assert 0.3 < (patients["diagnosis"] == "crps").mean() < 0.45
    excluded = infusions[["ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"]].isna().any(axis=1)
    assert abs(excluded.mean() - 36 / 369) < 0.01
    assert set(infusions.loc[~excluded, "patient_id"]) == set(patients["patient_id"])
    assert not (tmp_path / "study.yml").exists()
