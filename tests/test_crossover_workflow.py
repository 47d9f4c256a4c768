"""Crossover studies end to end: a simulated crossover with an amisulpride effect planted, from raw recordings to the
HTML report (the LMMs detect it, the Bayesian contrast covers it, naltrexone's covers 0); a crossover dataset
written by another tool (MNE-BIDS) in the BIDS sessions layout, analysed from a config alone; bad sessions files
stopped before any job with one grouped error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, TEST_CONFIG, copy_project, merge, run_snakemake, write_overlay, yaml_of

pytestmark = pytest.mark.workflow

#: what the simulated crossover plants: amisulpride lowers the zygomaticus AngryToHappy asymptote
PLANTED = {"group": "amisulpride", "muscle": "zygomaticus", "emotion": "AngryToHappy", "asymptote": -0.15}
#: six participants (one per Williams sequence of three drugs), three sessions each
SMALL = {"simulation": {"crossover": {"participants": 6}, "drug_effects": [PLANTED]}}


def crossover_config(overlay: dict) -> dict:
    """config/examples/crossover.yaml laid over the test configuration, then ``overlay``."""
    return merge(merge(yaml_of(ROOT / TEST_CONFIG), yaml_of(ROOT / "config/examples/crossover.yaml")), overlay)


@pytest.fixture(scope="module")
def crossover_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("crossover") / "project")
    config = write_overlay(project, "crossover_small.yaml", crossover_config(SMALL))
    run_snakemake(project, "--cores", "2", "--configfile", config)
    return project


def test_a_simulated_crossover_runs_to_the_report_one_job_per_recording(crossover_run: Path) -> None:
    results = crossover_run / "results"
    assert (results / "study_report.html").stat().st_size > 0
    recordings = [f"sub-{p:03d}_ses-{s}" for p in range(1, 7) for s in (1, 2, 3)]
    assert all((results / f"preprocessing/qc/{name}_emg_qc.png").is_file() for name in recordings)
    validation = pd.read_csv(results / "dataset/validation.tsv", sep="\t", dtype={"participant": str})
    assert len(validation) == 18 and list(validation.columns[:4]) == ["participant", "session", "period", "group"]
    windows = pd.read_parquet(results / "preprocessing/emg_windows.parquet")
    assert list(windows.columns[:5]) == ["participant", "session", "group", "period", "sequence"]
    # every participant received every drug, one per session
    assert (windows.groupby("participant")["group"].nunique() == 3).all()
    assert (windows.groupby(["participant", "session"])["group"].nunique() == 1).all()


def test_the_lmms_detect_the_planted_drug_effect_with_period_and_carryover_terms(crossover_run: Path) -> None:
    anova = pd.read_csv(crossover_run / "results/statistics/lmm/emg_zygomaticus_AngryToHappy_anova.tsv", sep="\t")
    terms = anova.set_index("term")["p"]
    assert {"period", "sequence", "drug:time"} <= set(terms.index)
    assert terms["drug:time"] < 0.05
    trends = pd.read_csv(crossover_run / "results/statistics/lmm/emg_zygomaticus_AngryToHappy_trends.tsv", sep="\t")
    slopes = trends.set_index("drug")["slope"]
    assert slopes.idxmin() == "amisulpride"  # the lowered asymptote: the flattest rise of the happy face's smile


def test_the_bayesian_contrast_covers_the_planted_effect_and_naltrexones_covers_zero(crossover_run: Path) -> None:
    contrasts = pd.read_csv(crossover_run / "results/bayes/contrasts.tsv", sep="\t")
    cell = contrasts[
        (contrasts["model"] == "full")
        & (contrasts["parameter"] == "asymptote")
        & (contrasts["muscle"] == "zygomaticus")
        & (contrasts["emotion"] == "AngryToHappy")
    ].set_index("drug")
    amisulpride, naltrexone = cell.loc["amisulpride"], cell.loc["naltrexone"]
    assert amisulpride["hdi_low"] <= PLANTED["asymptote"] <= amisulpride["hdi_high"]
    assert amisulpride["hdi_high"] < 0
    assert naltrexone["hdi_low"] <= 0 <= naltrexone["hdi_high"]
    posterior_summary = pd.read_csv(crossover_run / "results/bayes/full/summary.tsv", sep="\t", dtype=str)
    assert {"sd_a_session", "effect_a_session"} <= set(posterior_summary["parameter"])


def test_table1_of_a_crossover_tests_within_participants_and_shows_the_period_balance(crossover_run: Path) -> None:
    tests = pd.read_csv(crossover_run / "results/statistics/table1_tests.tsv", sep="\t").set_index("variable")
    assert tests.loc["Hours from pill", "test"] == "repeated-measures ANOVA (within participants)"
    assert tests.loc["% correct guess", "test"] == "Cochran's Q (within participants)"
    assert tests.loc["N period 1", "test"] == "chi-square contingency (drug x period)"
    assert tests.loc["N period 1", "p"] == 1.0  # a Williams design: every drug twice in every period
    assert tests.loc["Age", "test"] == "not tested"


def _write_with_mne_bids(run: Path, root: Path) -> None:
    """The simulated crossover's recordings as another tool writes them: MNE-BIDS's layout and sidecars, its own
    participant and session labels, channel names and sessions files with a ``treatment`` column and no period
    (sessions listed in the order they were recorded)."""
    import mne
    import mne_bids

    source = run / "results/simulated/bids"
    sessions = {"1": "visitA", "2": "visitB", "3": "visitC"}
    rows = []
    for participant in range(1, 7):
        label, ours = f"p{participant:02d}", f"{participant:03d}"
        listing = pd.read_csv(source / f"sub-{ours}/sub-{ours}_sessions.tsv", sep="\t", dtype=str)
        for number, session in sessions.items():
            folder = source / f"sub-{ours}/ses-{number}/emg"
            raw = mne.io.read_raw_edf(folder / f"sub-{ours}_ses-{number}_task-mimicry_emg.edf", verbose="error")
            raw.load_data(verbose="error")
            raw.rename_channels({"CS": "Corrugator", "ZM": "Zygomaticus"})
            raw.set_channel_types({"Corrugator": "emg", "Zygomaticus": "emg"})
            raw.info["line_freq"] = 50
            path = mne_bids.BIDSPath(subject=label, session=session, task="faces", datatype="emg", root=root)
            mne_bids.write_raw_bids(
                raw, path, emg_placement="Other", allow_preload=True, format="EDF", overwrite=True, verbose="error"
            )
            shutil.copy(
                folder / f"sub-{ours}_ses-{number}_task-mimicry_events.tsv",
                root / f"sub-{label}/ses-{session}/emg/sub-{label}_ses-{session}_task-faces_events.tsv",
            )
        drugs = listing.set_index("session_id")["drug"]
        rows = [{"session_id": f"ses-{sessions[n]}", "treatment": drugs[f"ses-{n}"]} for n in sessions]
        pd.DataFrame(rows).to_csv(root / f"sub-{label}/sub-{label}_sessions.tsv", sep="\t", index=False)


OTHER_CROSSOVER = {
    "study": {
        "title": "Facial mimicry under three drugs, a crossover",
        "stimulus": "videos of a face turning from angry to happy, or back",
        "task": "faces",
        "channels": {"corrugator": "Corrugator", "zygomaticus": "Zygomaticus"},
        "design": {"drug_column": "treatment", "period_column": None},
    },
    "simulation": {"enabled": False},
    "statistics": {"table1": {"counts": [], "continuous": [], "guess": None}},
}


@pytest.fixture(scope="module")
def other_crossover(crossover_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("other_crossover")
    dataset = folder / "dataset"
    _write_with_mne_bids(crossover_run, dataset)
    return copy_project(folder / "project"), dataset


def test_a_crossover_written_by_another_tool_runs_from_its_config_alone(other_crossover: tuple[Path, Path]) -> None:
    project, dataset = other_crossover
    config = write_overlay(
        project,
        "other_crossover.yaml",
        merge(crossover_config(OTHER_CROSSOVER), {"dataset": {"bids_root": str(dataset)}}),
    )
    target = "results/statistics/lmm/emg_zygomaticus_AngryToHappy_anova.tsv"
    run_snakemake(project, target, "results/statistics/table1.tsv", "--cores", "2", "--configfile", config)
    windows = pd.read_parquet(project / "results/preprocessing/emg_windows.parquet")
    assert set(windows["session"]) == {"visitA", "visitB", "visitC"}
    # no period column: the sessions in the order the files list them
    assert windows.groupby("session")["period"].first().to_dict() == {"visitA": 1, "visitB": 2, "visitC": 3}
    assert windows.groupby("participant")["group"].nunique().eq(3).all()
    terms = pd.read_csv(project / target, sep="\t").set_index("term")["p"]
    assert terms["drug:time"] < 0.05


def test_bad_sessions_files_stop_the_run_before_any_job_with_one_grouped_error(
    other_crossover: tuple[Path, Path], tmp_path: Path
) -> None:
    _, dataset = other_crossover
    broken = shutil.copytree(dataset, tmp_path / "dataset")
    for sessions in broken.glob("sub-*/sub-*_sessions.tsv"):
        table = pd.read_csv(sessions, sep="\t", dtype=str)
        table.rename(columns={"treatment": "drug"}).to_csv(sessions, sep="\t", index=False)
    (broken / "sub-p02/sub-p02_sessions.tsv").unlink()
    project = copy_project(tmp_path / "project")
    config = write_overlay(
        project, "broken.yaml", merge(crossover_config(OTHER_CROSSOVER), {"dataset": {"bids_root": str(broken)}})
    )
    result = run_snakemake(project, "--cores", "1", "--configfile", config, check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "Invalid input" in message and "Traceback" not in message
    assert "5 participants (sub-p01, sub-p03, sub-p04 and 2 more)" in message
    assert "missing column(s) ['treatment']" in message and "study.design.drug_column" in message
    assert "sub-p02_sessions.tsv: file not found" in message
    assert not (project / "results").exists()


def test_a_crossovers_own_trial_tables_run_from_its_config(crossover_run: Path, tmp_path: Path) -> None:
    windows = pd.read_parquet(crossover_run / "results/preprocessing/emg_windows.parquet")
    table = windows.drop(columns=["period", "sequence", "block", "reason"]).assign(
        session=lambda t: "ses-" + t["session"].astype(str)
    )
    table.to_csv(tmp_path / "emg_windows.tsv", sep="\t", index=False)  # no period: by the session labels
    shutil.copy(crossover_run / "results/simulated/bids/participants.tsv", tmp_path / "participants.tsv")
    project = copy_project(tmp_path / "project")
    tables = {"emg_windows": str(tmp_path / "emg_windows.tsv"), "participants": str(tmp_path / "participants.tsv")}
    overlay = {**OTHER_CROSSOVER, "study": {**OTHER_CROSSOVER["study"], "task": "mimicry"}}
    config = write_overlay(
        project, "tables.yaml", merge(crossover_config(overlay), {"dataset": {"bids_root": None, "tables": tables}})
    )
    target = "results/statistics/lmm/emg_zygomaticus_AngryToHappy_anova.tsv"
    run_snakemake(project, target, "results/statistics/table1.tsv", "--cores", "2", "--configfile", config)
    terms = pd.read_csv(project / target, sep="\t").set_index("term")["p"]
    assert terms["drug:time"] < 0.05
    tests = pd.read_csv(project / "results/statistics/table1_tests.tsv", sep="\t").set_index("variable")
    assert tests.loc["N period 1", "p"] == 1.0  # the periods the session labels give: the Williams design's
