"""The power grid's designs (between participants, crossover): the grid and its jobs, the crossover's config, seeds
and simulation, the fast path per recording, what keeps a design from running, and the participants each design
needs (unit)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from helpers import DEFAULT, EMG, POWER, ROOT, SIMULATION, STUDY, merge, simulation_with
from mimicry import findings
from mimicry.power import fastpath, lmm_rules, planning, studies, summary
from mimicry.settings import PowerSettings
from mimicry.simulate.crossover import simulate_crossover
from mimicry.study import Study
from mimicry.task import load_stimuli

DESIGNS = merge(DEFAULT["power"], {"designs": ["between", "within"], "effects": [0.0, -0.06]})
DESIGNS_CONFIG = merge(DEFAULT, {"power": DESIGNS})
CROSSOVER = Study.from_config(merge(DEFAULT["study"], {"design": {"drug": "within"}}))
STIMULI = load_stimuli(ROOT / "resources/stimuli.tsv", STUDY.emotions)


def test_the_grid_has_every_design_at_its_sizes_and_a_between_cells_jobs_are_as_before() -> None:
    settings = PowerSettings.from_config(
        merge(DESIGNS, {"participants_per_group": [20], "within": {"participants": [6, 12]}, "replicates": 3})
    )
    cells = planning.grid(settings, STUDY)
    assert [(c.design, c.size, c.effect) for c in cells] == [
        ("between", 20, 0.0),
        ("between", 20, -0.06),
        ("within", 6, 0.0),
        ("within", 6, -0.06),
        ("within", 12, 0.0),
        ("within", 12, -0.06),
    ]
    batches = planning.batches(settings, STUDY)
    assert batches[0].path == "batches/n20/+0.0000/batch000.parquet"
    assert batches[0].as_params() == {"effect": 0.0, "participants_per_group": 20, "replicates": [0, 1, 2]}
    assert batches[3].path == "batches/within_n6/-0.0600/batch000.parquet"
    assert all(planning.PowerBatch.from_params(b.as_params()) == b for b in batches)
    # without designs: the study's own (a crossover's, at simulation.crossover.participants)
    assert {c.folder for c in planning.grid(POWER, CROSSOVER)} == {"within_study"}
    assert {c.folder for c in planning.grid(POWER, STUDY)} == {"study"}


def test_a_between_studys_crossover_is_the_same_study_with_the_drug_within_and_its_own_formulas() -> None:
    within = planning.design_config(DESIGNS_CONFIG, STUDY, "within")
    assert within["study"]["design"]["drug"] == "within" and within["study"]["groups"] == DEFAULT["study"]["groups"]
    assert within["statistics"]["followup"]["formula"] == DESIGNS["within"]["formulas"]["followup"]
    assert within["statistics"]["emg"]["fallbacks"] == [] and within["simulation"] == DEFAULT["simulation"]
    assert planning.design_config(DESIGNS_CONFIG, STUDY, "between") == DESIGNS_CONFIG
    specs = planning.design_specs(DESIGNS_CONFIG, STUDY, ("between", "within"), POWER.target)
    assert "(0 + time | participant:session)" in specs["within"]["followup"].formulas[0]
    assert specs["between"]["followup"].formulas[0] == "log_emg ~ drug * time + (1 + time | participant)"
    # a job's params: its design's config, a between job's without the grid's designs (they do not change it)
    lmm = planning.batch_config(DESIGNS_CONFIG, STUDY, "between", "lmm")
    assert "designs" not in lmm["power"] and "within" not in lmm["power"]
    assert planning.batch_config(DESIGNS_CONFIG, STUDY, "within", "lmm")["study"]["design"]["drug"] == "within"


def test_a_crossovers_studies_have_their_own_seeds_and_size() -> None:
    cell = planning.PowerCell(-0.06, None, "within", 12)
    seeds = studies.replicate_seeds(POWER.seed, cell, range(5))
    assert seeds == studies.replicate_seeds(POWER.seed, dataclasses.replace(cell, effect=0.0), range(5))
    between = studies.replicate_seeds(POWER.seed, planning.PowerCell(-0.06, 12), range(5))
    assert not set(seeds) & set(between)  # a crossover of 12 is not the between study of 12 per group
    simulation = studies.replicate_simulation(SIMULATION, CROSSOVER, POWER.target, cell, seed=3)
    assert simulation.crossover.participants == 12 and simulation.seed == 3


def test_the_fast_path_draws_a_crossover_per_recording_with_its_session_period_and_sequence() -> None:
    """Every participant x session is a recording: its own trials, its session's planted curve (a session effect
    shows in that session alone) and its own outlier rules; the group tables' session columns."""
    simulation = simulation_with({"crossover": {"participants": 6}})
    _, sessions, parameters, effects = simulate_crossover(simulation, CROSSOVER)
    lifted = effects["session"].eq("2") & effects["participant"].eq("001")
    effects.loc[lifted, "a"] += 1.0
    floor = fastpath.floor_ratios(parameters, simulation, EMG, list(STUDY.muscles))
    table = fastpath.window_values(effects, STIMULI, simulation, EMG, list(STUDY.muscles), [4, 1], floor)
    assert list(table.columns[:5]) == ["participant", "session", "group", "period", "sequence"]
    assert list(table.columns[5:]) == fastpath.MODEL_WINDOW_COLUMNS[2:]
    recordings = table.drop_duplicates(["participant", "session"]).merge(
        sessions.assign(session=sessions["session_id"].str.removeprefix("ses-")), on=["participant", "session"]
    )
    assert len(recordings) == 18 and (recordings["group"] == recordings["drug"]).all()
    assert (recordings["period_x"] == recordings["period_y"]).all()
    order = recordings.sort_values("period_x").groupby("participant")["drug"].agg("-".join)
    assert (recordings["sequence"] == recordings["participant"].map(order)).all()
    trials = simulation.design.repetitions * len(STIMULI)
    assert (table.groupby(["participant", "session"]).size() == trials * len(STUDY.muscles) * EMG.n_windows).all()
    late = table[table["window"] == EMG.n_windows].groupby(["participant", "session"])["log_emg"].mean()
    assert late[("001", "2")] - late.drop(("001", "2")).max() > 0.3  # the lifted session alone
    kept = table.groupby(["participant", "session"])["rejected"].mean()
    assert kept.max() < 0.5  # each recording's rules see its own trials: its lift is not an outlier


def test_what_keeps_a_design_from_running_is_said_before_any_job() -> None:
    stimuli = DEFAULT["study"]["stimuli"]
    settings = PowerSettings.from_config(DESIGNS)
    assert planning.check_power(DESIGNS_CONFIG, STUDY, settings, stimuli) == []
    crossover_config = merge(DESIGNS_CONFIG, {"study": {"design": {"drug": "within"}}})
    problems = planning.check_power(crossover_config, CROSSOVER, settings, stimuli)
    assert len(problems) == 1 and "power.designs: between needs a between-participant study's formulas" in problems[0]
    within_only = dataclasses.replace(settings, designs=("within",))
    assert planning.check_power(crossover_config, CROSSOVER, within_only, stimuli) == []
    wrong = merge(
        DESIGNS_CONFIG,
        {"power": {"within": {"formulas": {"followup": "log_emg ~ drug + age + (1 | participant:session)"}}}},
    )
    problems = planning.check_power(wrong, STUDY, settings, stimuli)
    assert problems == [
        "power.within.formulas.followup 'log_emg ~ drug + age + (1 | participant:session)': ['age'] name no column "
        "of a crossover's model data (['drug', 'emotion', 'face', 'log_emg', 'participant', 'period', 'sequence', "
        "'session', 'time'])",
        "power rule followup_drug_x_time (within): power.within.formulas.followup followup formula "
        "'log_emg ~ drug + age + (1 | participant:session)' has no time",
    ]


def _power(design: str, people: int, sessions: int, hits: dict[float, int], size: int | None) -> list[dict]:
    return [
        {"design": design, "participants_per_group": size, "participants": people, "sessions": sessions}
        | {"effect": effect, "replicate": r, "seed": r, "rule": "followup_drug_x_time", "p": np.nan}
        | {"detected": r < detected, "warnings": 0}
        for effect, detected in hits.items()
        for r in range(100)
    ]


def _designs_table() -> pd.DataFrame:
    """Between: 36 and 72 participants reach 40% and 70% at -0.06; a crossover of 6 and 12: 60% and 90%."""
    rows = _power("between", 36, 36, {0.0: 5, -0.06: 40, -0.09: 85}, 12)
    rows += _power("between", 72, 72, {0.0: 5, -0.06: 70, -0.09: 99}, 24)
    rows += _power("within", 6, 18, {0.0: 6, -0.06: 60, -0.09: 95}, None)
    rows += _power("within", 12, 36, {0.0: 4, -0.06: 90, -0.09: 100}, None)
    return summary.power_table(studies.typed(pd.DataFrame(rows, columns=lmm_rules.REPLICATE_COLUMNS)))


def test_the_participants_each_design_needs_are_interpolated_between_its_sizes() -> None:
    needed = summary.participants_needed(_designs_table(), 0.8).set_index(["design", "effect"])
    within = needed.loc[("within", -0.06)]
    assert within["participants"] == pytest.approx(6 + (0.8 - 0.6) * 6 / (0.9 - 0.6))
    assert within["sessions"] == pytest.approx(3 * within["participants"]) and within["reached"] == "interpolated"
    assert within["participants_low"] < within["participants"] < within["participants_high"]
    assert np.isnan(needed.loc[("between", -0.06), "participants"])
    assert needed.loc[("between", -0.06), "reached"] == "beyond the grid"
    between = needed.loc[("between", -0.09)]
    assert between["participants"] == pytest.approx(36) and between["reached"] == "at the smallest size"
    assert between["sessions"] == pytest.approx(36)
    assert (0.0 not in needed.index.get_level_values("effect")) and len(needed) == 4

    said = findings.power_findings(
        _designs_table(),
        summary.smallest_detectable(_designs_table(), 0.8),
        pd.DataFrame(),
        planning.RULE_LABELS,
        0.95,
        summary.participants_needed(_designs_table(), 0.8),
    )
    assert any(
        s.startswith("follow-up LMM: drug x time, a crossover of 6 participants (18 sessions): reaches") for s in said
    )
    assert any(
        s.startswith("follow-up LMM: drug x time, 24 per group (72 participants): reaches 80% power") for s in said
    )
    compared = [s for s in said if s.startswith("Participants needed")]
    assert compared[1] == (
        "Participants needed: follow-up LMM: drug x time, effect -0.09, 80% power: between participants: at most 36 "
        "participants (36 sessions); in a crossover: at most 6 participants (18 sessions)."
    )
    assert compared[0] == (
        "Participants needed: follow-up LMM: drug x time, effect -0.06, 80% power: between participants: more than "
        "the largest size simulated; in a crossover: 10 participants (30 sessions, 8 to 12 from the power intervals)."
    )
