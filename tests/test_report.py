"""The study report: provenance, the methods text, the executed notebook and its HTML, Snakemake's report."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import DEFAULT, ROOT, TEST_CONFIG, run_snakemake
from mimicry import apa, check_findings, findings, methods, provenance, report_tables

# ---------------------------------------------------------------------------------------------------------------
# Pure functions


def test_p_values_and_f_tests_are_written_apa_style() -> None:
    assert apa.format_p(0.0004) == "p < .001"
    assert apa.format_p(0.04449) == "p = .044"
    assert apa.format_f({"num_df": 2.0, "den_df": 126.31, "F": 1.4089, "p": 0.2444}) == "F(2, 126.3) = 1.41, p = .244"


def test_drug_terms_are_found_whoever_orders_the_factors() -> None:
    anova = pd.DataFrame(
        {
            "term": ["emotion", "drug", "emotion:drug", "time:drug:emotion", "drugged"],
            "num_df": 1.0,
            "den_df": 10.0,
            "F": 1.0,
            "p": [0.5, 0.2, 0.01, 0.3, 0.9],
        }
    )
    assert findings.drug_terms(anova)["term"].tolist() == ["drug", "emotion:drug", "time:drug:emotion"]
    said = findings.lmm_findings("Zygomaticus EMG", anova, alpha=0.05)
    assert said == [
        "Zygomaticus EMG: terms involving the drug group at p < 0.05: emotion × drug, F(1, 10.0) = 1.00, p = .010."
    ]
    assert "no term involving the drug" in findings.lmm_findings("X", anova.assign(p=0.5), alpha=0.05)[0]


def test_config_digest_is_stable_and_sees_every_value() -> None:
    shuffled = dict(reversed(list(DEFAULT.items())))
    assert provenance.config_digest(shuffled) == provenance.config_digest(DEFAULT)
    changed = copy.deepcopy(DEFAULT)
    changed["statistics"]["bayes"]["priors"]["rate"]["sigma"] = 0.9
    assert provenance.config_digest(changed) != provenance.config_digest(DEFAULT)


def test_input_checksums_are_sha256(tmp_path: Path) -> None:
    (tmp_path / "b.tsv").write_bytes(b"x\t1\n")
    (tmp_path / "a.edf").write_bytes(bytes(range(256)) * 5000)
    table = provenance.input_checksums([tmp_path / "b.tsv", tmp_path / "a.edf"])
    assert table["path"].tolist() == [str(tmp_path / "a.edf"), str(tmp_path / "b.tsv")]
    assert table["bytes"].tolist() == [1_280_000, 4]
    assert table["sha256"].tolist() == [
        hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("a.edf", "b.tsv")
    ]


@pytest.mark.parametrize("env", ["emg", "stats", "bayes", "report"])
def test_the_venv_has_what_each_environment_pins(env: str) -> None:
    """The venv route runs every rule; what it has installed is what envs/*.yaml pin (R: Debian's versions)."""
    table = provenance.software_versions(env, ROOT / f"envs/{env}.yaml")
    pinned = table.loc[table["pinned"] != ""]
    assert not pinned.empty
    for row in pinned.itertuples():
        if row.package == "python":
            assert row.found.startswith(row.pinned + ".")
        elif row.package == "emmeans":  # Debian's 1.8.4-1 is the 1.8.4 conda-forge pins
            assert row.found.startswith(row.pinned)
        else:
            assert row.found == row.pinned, f"{env}: {row.package} pinned {row.pinned}, found {row.found}"


def test_methods_text_follows_the_config() -> None:
    software = pd.DataFrame([{"environment": "stats", "kind": "R", "package": "lme4", "pinned": "", "found": "9.9"}])
    text = methods.methods_text(DEFAULT, software, "ab" * 32)
    emg = DEFAULT["preprocessing"]["emg"]
    assert f"between {emg['bandpass']['l_freq']:g} and {emg['bandpass']['h_freq']:g} Hz" in text
    assert f"Epochs from {emg['epoch']['tmin']:g} to {emg['epoch']['tmax']:g} s" in text
    assert DEFAULT["statistics"]["emg"]["formula"] in text and DEFAULT["statistics"]["rt"]["formula"] in text
    assert "Normal(-1, 1)" in text and "Half-Normal(0.1)" in text and "lme4 9.9" in text
    assert "4 chains of 5000 iterations (2500 warm-up, 2500 draws kept per chain)" in text
    assert "participant effects of a and b were integrated out of the likelihood analytically" in text

    changed = copy.deepcopy(DEFAULT)
    changed["preprocessing"]["emg"]["bandpass"]["l_freq"] = 10.0
    changed["preprocessing"]["emg"]["rejection"] = {"n_sd": 3.0, "rules": ["peak"], "scope": "muscle"}
    changed["statistics"]["bayes"].update(variant="brms", chains=2, b_intercept=True)
    changed["statistics"]["bayes"]["priors"]["rate"] = {"mu": -0.5, "sigma": 2.0}
    text = methods.methods_text(changed, software, "cd" * 32)
    assert "between 10 and 400 Hz" in text
    assert "when the trial's peak response (percentage of its baseline) lay more than 3 SD" in text
    assert "each muscle kept its own trials" in text
    assert "Normal(-0.5, 2)" in text and "LKJ(1) prior" in text and "2 chains of 5000" in text
    assert "b's fixed effects Normal(0, 0.2)" in text and "correlated across cells as in brms" in text


def test_the_methods_name_a_nested_model_that_missed_the_gate_and_what_it_cost() -> None:
    """The gate's policy in words, and this run's verdicts: a model compared in Table 2 only that missed the gate
    is named with how it missed it, and had no weight."""
    software = pd.DataFrame([{"environment": "stats", "kind": "R", "package": "lme4", "pinned": "", "found": "9.9"}])
    passed = pd.DataFrame({"model": ["full", "asymptote", "rate", "no_drug"], "converged": True, "problems": ""})
    text = methods.methods_text(DEFAULT, software, "ab" * 32, diagnostics=passed)
    assert "stopped the analysis if the findings rest on it (full and no effect of drug)" in text
    assert "All 4 models passed." in text
    failed = passed.assign(converged=[True, True, False, True], problems=["", "", "62 divergent transitions", ""])
    text = methods.methods_text(DEFAULT, software, "ab" * 32, diagnostics=failed)
    assert (
        "Of the 4 models, 1 did not pass: the drug effects rate only model (62 divergent transitions); they were "
        "given no weight." in text
    )


# ---------------------------------------------------------------------------------------------------------------
# The workflow's report on the test configuration


def _cell_output(notebook: nbformat.NotebookNode, tag: str) -> str:
    """All text a tagged cell displayed (Markdown, plain text and HTML outputs, in order)."""
    cell = next(c for c in notebook.cells if tag in c.metadata.get("tags", []))
    parts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parts += [data.get("text/markdown", ""), data.get("text/html", ""), output.get("text", "")]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(test_run: Path) -> nbformat.NotebookNode:
    return nbformat.read(test_run / "results/logs/report/study_report.ipynb", as_version=4)


def test_the_notebook_ran_every_cell_without_error(executed) -> None:
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell.execution_count is not None
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:80]


def test_the_summary_is_the_findings_table(test_run: Path, executed) -> None:
    table = pd.read_csv(test_run / "results/report/findings.tsv", sep="\t")
    summary = _cell_output(executed, "summary")
    assert set(table["topic"]) >= {
        "Dataset",
        "Table 1",
        "Excluded trials",
        "Linear mixed models",
        "Bayesian asymptotic regression",
    }
    for row in table.itertuples():
        assert f"**{row.topic}.** {row.statement}" in summary


def test_the_numbers_the_notebook_prints_are_the_result_tables(test_run: Path, executed) -> None:
    """Each number of the summary, recomputed here from the result tables."""
    results = test_run / "results"
    summary = _cell_output(executed, "summary")

    rejections = pd.read_csv(results / "preprocessing/emg_rejections.tsv", sep="\t", dtype={"participant": str})
    assert f"{rejections['participant'].nunique()} participants were analysed" in summary
    rates = pd.read_csv(results / "preprocessing/rejection_rates.tsv", sep="\t").set_index(["group", "measure"])
    assert f"rejected {rates.loc[('all', 'emg_trials_rejected_pct'), 'percent']:.1f}% of EMG trials" in summary
    assert f"{rates.loc[('all', 'rt_outliers_pct'), 'percent']:.1f}% of response times" in summary

    for model in ("emg_corrugator", "emg_zygomaticus", "emg_zygomaticus_AngryToHappy", "rt"):
        anova = pd.read_csv(results / f"statistics/lmm/{model}_anova.tsv", sep="\t")
        drug = anova.loc[anova["term"].str.contains("drug")]
        shown = drug.loc[drug["p"] < 0.05] if (drug["p"] < 0.05).any() else drug.loc[[drug["p"].idxmin()]]
        for row in shown.itertuples():
            p = "p < .001" if row.p < 0.001 else f"p = {row.p:.3f}".replace("0.", ".", 1)
            assert f"F({row.num_df:g}, {row.den_df:.1f}) = {row.F:.2f}, {p}" in summary, model
    trends = pd.read_csv(results / "statistics/lmm/emg_zygomaticus_trends.tsv", sep="\t")
    for row in trends.itertuples():
        assert f"{row.emotion} {row.slope:+.4f} per window" in summary

    by_group = pd.read_csv(results / "statistics/rejections_by_group.tsv", sep="\t")
    assert f"rejected EMG trials: F(2, {by_group['df2'][0]:g}) = {by_group['F'][0]:.2f}" in summary

    table2 = pd.read_csv(results / "bayes/table2.tsv", sep="\t").set_index("model")
    best = table2["weight_lopo"].idxmax()
    flag = "" if table2["lopo_reliable"].all() else ", unreliable: more than 10% of Pareto k above 0.7"
    lopo = f"leave-one-participant-out: '{table2.loc[best, 'label']}' ({table2.loc[best, 'weight_lopo']:.3f}{flag})"
    assert lopo in summary
    diagnostics = pd.concat(pd.read_csv(path, sep="\t") for path in sorted(results.glob("bayes/*/diagnostics.tsv")))
    assert f"largest R-hat {diagnostics['max_rhat'].max():.3f}" in summary
    # the test configuration's short chains do not converge: the summary says so rather than hiding it
    assert (~diagnostics["converged"]).all() and "No Bayesian model passed the convergence gate" in summary


def test_the_notebook_shows_table1_and_the_methods_as_written(test_run: Path, executed) -> None:
    table1 = (test_run / "results/statistics/table1.md").read_text()
    assert table1 in _cell_output(executed, "table1")
    methods_md = (test_run / "results/report/methods.md").read_text()
    assert methods_md in _cell_output(executed, "methods")


def test_provenance_records_the_config_software_and_inputs(test_run: Path) -> None:
    folder = test_run / "results/provenance"
    used = yaml.safe_load((folder / "config.yaml").read_text())
    assert used["simulation"]["participants_per_group"] == {"amisulpride": 2, "naltrexone": 2, "placebo": 2}
    summary = json.loads((folder / "provenance.json").read_text())
    assert summary["config_sha256"] == provenance.config_digest(used)
    assert summary["config_sha256"][:16] in (test_run / "results/report/methods.md").read_text()
    inputs = pd.read_csv(folder / "inputs.tsv", sep="\t")
    assert len(inputs) == summary["input_files"] == 1 + 6 * 4 + 1  # participants.tsv, 4 files per recording, stimuli
    for row in inputs.sample(5, random_state=0).itertuples():
        assert hashlib.sha256((test_run / row.path).read_bytes()).hexdigest() == row.sha256
    software = pd.read_csv(folder / "software.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert set(software["environment"]) == {path.stem for path in (ROOT / "envs").glob("*.yaml")}
    assert (software.loc[software["package"] == "lme4", "found"] != "not installed").all()


def test_the_html_is_self_contained_with_every_figure(test_run: Path) -> None:
    html = (test_run / "results/study_report.html").read_text()
    assert not re.search(r"<(script|img|link)[^>]+(src|href)=\"https?://", html), "the report loads from the internet"
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    # Figure 1, S2, 2, 3 and the QC thumbnail grid
    assert len(images) >= 5
    figure1 = base64.b64encode((test_run / "results/statistics/figure1.png").read_bytes()).decode()
    assert figure1 in images
    assert "def tsv(" not in html, "code cells are hidden"


def _near(pixels: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    return int((np.abs(pixels[..., :3].astype(int) - np.array(rgb)).max(axis=-1) <= tolerance).sum())


@pytest.mark.browser
def test_the_html_renders_in_a_headless_browser_with_its_figures(test_run: Path, tmp_path: Path) -> None:
    import matplotlib.image

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (make test installs it: tools/setup/test-system.sh)"
    screenshot = tmp_path / "study_report.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,9000",
            f"--screenshot={screenshot}",
            (test_run / "results/study_report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = np.round(matplotlib.image.imread(screenshot) * 255)
    assert pixels.shape[:2] == (9000, 1280)
    # tab:blue and tab:orange are the amisulpride and naltrexone curves of Figures 1, S2 and 3: the screenshot
    # shows the figures, not empty frames
    assert _near(pixels, (31, 119, 180)) > 500 and _near(pixels, (255, 127, 14)) > 500
    assert (pixels[..., :3] < 250).any(axis=-1).mean() > 0.05, "the page is mostly blank"
    shutil.copy(screenshot, test_run / "results/logs/report/study_report_screenshot.png")


def test_snakemake_report_has_every_stage_with_captions(test_run: Path) -> None:
    run_snakemake(test_run, "--report", "snakemake_report.html", "--configfile", TEST_CONFIG)
    html = (test_run / "snakemake_report.html").read_text()
    for category in ("1 Dataset", "2 Preprocessing", "3 Frequentist statistics", "4 Bayesian models", "5 Report"):
        assert category in html
    # captions are rendered with the config's values
    assert "band-pass\\n20.0-400.0 Hz" in html
    assert "emotion x window (50 draws)" in html


# ---------------------------------------------------------------------------------------------------------------
# Tables as the report prints them


def test_numbers_print_at_a_journals_precision_and_missing_values_say_why() -> None:
    table = pd.DataFrame(
        {
            "term": ["emotion", "drug"],
            "num_df": [1.0, 2.0],
            "den_df": [127.13, 126.0],
            "F": [97.6249, 0.4151],
            "p": [2.3e-9, 0.66123],
            "paper_percent": [21.4, np.nan],
            "converged": [True, False],
            "n": [130.0, 129.0],
        }
    )
    shown = report_tables.presentable(table, missing={"paper_percent": "not in the paper"})
    assert shown.iloc[0].tolist() == ["emotion", "1", "127.1", "97.62", "< .001", "21.4", "yes", "130"]
    assert shown.iloc[1].tolist() == ["drug", "2", "126", "0.42", ".661", "not in the paper", "no", "129"]
    assert report_tables.presentable(pd.DataFrame({"estimate": [np.nan, ""]})).iloc[:, 0].tolist() == ["n/a"] * 2
    assert apa.format_p_value(0.9996) == "> .999"
    tested = report_tables.with_f_tests(table)
    assert tested["test"][0] == "F(1, 127.1) = 97.62, p < .001"


def test_a_long_table_shows_its_first_rows_and_folds_the_rest() -> None:
    long = report_tables.presentable(pd.DataFrame({"participant": [f"{k:03d}" for k in range(130)]}))
    folded = report_tables.folded_html(long, "results/x.tsv", "Participants")
    shown, hidden = folded.split("<details>")
    assert shown.count("<tr>") == 1 + report_tables.SHOWN_ROWS and hidden.count("<tr>") == 1 + 130
    assert "all 130 rows" in hidden and "results/x.tsv" in folded
    short = report_tables.folded_html(long.head(3), "results/x.tsv", "Participants")
    assert "<details>" not in short and short.count("<tr>") == 4


def test_the_report_has_contents_and_no_cell_that_reads_nan(test_run: Path) -> None:
    """A reader sees a table of contents linking every section, and no nan, NaN, <NA>, None or empty cell: each
    missing value says what is missing; long tables are folded."""
    html = (test_run / "results/study_report.html").read_text()
    assert "Contents" in html
    for title in ("Summary", "Linear mixed models: Figure 1, Figure S2", "Provenance", "Methods"):
        anchor = report_tables.anchor(title)
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html, title
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)
    assert len(cells) > 200
    bad = [cell for cell in cells if cell.strip() in {"", "nan", "NaN", "<NA>", "&lt;NA&gt;", "None"}]
    assert not bad, bad[:5]
    assert "<details>" in html and "F(" in html and "Workflow version" in html


def test_the_posterior_predictive_verdict_counts_cells_outside_against_chance() -> None:
    """60 group x cell x window means at 95%: up to 6 outside is chance (the binomial 95% quantile, scipy's); a
    model with 7 misses the data, and the summary says where most of them are."""
    table = pd.DataFrame(
        {
            "muscle": ["zygomaticus"] * 30 + ["corrugator"] * 30,
            "emotion": ["AngryToHappy"] * 60,
            "window": [1, 2, 3, 4, 5] * 12,
            "outside": [True] * 6 + [False] * 54,
        }
    )
    assert check_findings.posterior_predictive_verdict(table, 0.95) == (True, 6, 6)
    missed = table.assign(outside=[True] * 7 + [False] * 53)
    assert check_findings.posterior_predictive_verdict(missed, 0.95) == (False, 7, 6)
    uniform = pd.DataFrame({"loo_pit": (np.arange(500) + 0.5) / 500})
    piled = pd.DataFrame({"loo_pit": np.r_[np.zeros(100), np.ones(100), uniform["loo_pit"]]})
    lines = check_findings.posterior_predictive_findings(
        {"full": table, "no_drug": missed},
        0.95,
        {"full": uniform, "no_drug": piled},
    )
    assert "reproduces the groups' mean curves (6 of 60" in lines[0]
    assert "its LOO-PIT values are uniform (Kolmogorov-Smirnov D = 0.001, p = 1.000)" in lines[0]
    assert "MISSES the groups' mean curves (7 of 60" in lines[1]
    assert "2 of them in window 1, 7 in zygomaticus AngryToHappy" in lines[1]
    assert "its LOO-PIT values are NOT uniform (Kolmogorov-Smirnov D = 0.143, p < .001)" in lines[1]
