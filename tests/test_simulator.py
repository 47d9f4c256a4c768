"""The simulator's claims: design rules, demographics like Table 1, response rates, exact planted curves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from helpers import ROOT, SIMULATION, STUDY, simulation_with
from mimicry.curve import curve
from mimicry.settings import DrugEffect
from mimicry.simulate import paper, recording
from mimicry.simulate.participants import planted_conditions, simulate_participants
from mimicry.task import load_stimuli, longest_run, session_timeline, trial_order

STIMULI = load_stimuli(ROOT / "resources" / "stimuli.tsv", STUDY.emotions)


@pytest.fixture(scope="module")
def paper_size() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return simulate_participants(SIMULATION, STUDY)


def test_longest_run() -> None:
    assert longest_run([]) == 0
    assert longest_run("aabbbab") == 3
    assert longest_run("abab") == 1


@pytest.mark.parametrize("seed", range(20))
def test_trial_order_follows_the_papers_rules(seed: int) -> None:
    trials = trial_order(STIMULI, repetitions=4, blocks=2, max_run=3, rng=np.random.default_rng(seed))
    assert len(trials) == 96
    assert list(trials["trial"]) == list(range(1, 97))
    assert trials.groupby("block").size().to_dict() == {1: 48, 2: 48}
    assert (trials.groupby(["block", "video"]).size() == 2).all()  # every video twice per block
    assert trials["trial_type"].value_counts().to_dict() == {"AngryToHappy": 48, "HappyToAngry": 48}
    assert longest_run(list(trials["trial_type"])) <= 3


def test_trial_order_is_not_always_the_same() -> None:
    first, second = (
        trial_order(STIMULI, repetitions=4, blocks=2, max_run=3, rng=np.random.default_rng(s)) for s in (1, 2)
    )
    assert list(first["video"]) != list(second["video"])


def test_session_timeline_timing() -> None:
    rng = np.random.default_rng(0)
    timing = SIMULATION.timing
    trials = trial_order(STIMULI, repetitions=4, blocks=2, max_run=3, rng=rng)
    schedule, duration = session_timeline(trials, STIMULI, timing, rng)
    assert (schedule["block"] == 0).sum() == 4 and schedule.loc[schedule["block"] == 0, "trial"].isna().all()
    assert schedule["fixation_s"].between(2.0, 3.0).all()
    assert schedule["fixation_s"].mean() == pytest.approx(2.5, abs=0.15)
    gaps = np.diff(schedule["onset"]) - schedule["fixation_s"].to_numpy()[1:]
    same_block = np.diff(schedule["block"]) == 0
    np.testing.assert_allclose(gaps[same_block], 6.0)  # video 5 s + feedback 1 s before the next fixation
    assert duration == int(duration) and duration > schedule["onset"].iloc[-1] + 6
    assert 850 < duration < 950


def test_response_curve_window_means_equal_the_model() -> None:
    for a, b, c in [(0.1, 0.0, 0.25), (-0.09, 0.02, -0.35), (0.06, -0.01, -1.5)]:
        for window in range(1, 6):
            mean, _ = integrate.quad(
                lambda tau, a=a, b=b, c=c: recording.response_curve(tau, a, b, c), window - 1, window
            )
            assert mean == pytest.approx(curve(a, b, c, window - 1.0), abs=1e-12)  # the model's one curve
    # b is the value at the first window, a the asymptote
    assert curve(0.1, 0.03, 0.25, 0.0) == pytest.approx(0.03)
    assert curve(0.1, 0.03, 0.25, 1e6) == pytest.approx(0.1)


def test_planted_conditions_default_to_no_drug_effect() -> None:
    conditions = planted_conditions(SIMULATION, STUDY)
    assert len(conditions) == 3 * 2 * 2
    assert (conditions[["drug_effect_a", "drug_effect_c"]] == 0).all().all()
    # the paper's mimicry pattern: ZM up for AngryToHappy, down for HappyToAngry; CS the mirror image
    a = conditions.set_index(["muscle", "emotion"])["a"].sort_index()
    assert a[("zygomaticus", "AngryToHappy")].min() > 0 > a[("zygomaticus", "HappyToAngry")].max()
    assert a[("corrugator", "HappyToAngry")].min() > 0 > a[("corrugator", "AngryToHappy")].max()


def test_planted_drug_effect_lands_on_one_cell() -> None:
    effect = DrugEffect("naltrexone", "zygomaticus", "AngryToHappy", asymptote=-0.05, rate=0.4)
    simulation = dataclasses.replace(SIMULATION, drug_effects=(effect,))
    conditions = planted_conditions(simulation, STUDY).set_index(["group", "muscle", "emotion"])
    baseline = planted_conditions(SIMULATION, STUDY).set_index(["group", "muscle", "emotion"])
    difference = conditions[["a", "c"]] - baseline[["a", "c"]]
    hit = ("naltrexone", "zygomaticus", "AngryToHappy")
    assert difference.loc[hit].tolist() == pytest.approx([-0.05, 0.4])
    assert (difference.drop(index=[hit]) == 0).all().all()
    simulation = dataclasses.replace(SIMULATION, drug_effects=(DrugEffect("caffeine", "zygomaticus", "AngryToHappy"),))
    with pytest.raises(ValueError, match="caffeine"):
        planted_conditions(simulation, STUDY)


def test_participants_look_like_table_1(paper_size) -> None:
    participants, parameters, effects = paper_size
    assert len(participants) == 130 and participants["participant_id"].is_unique
    assert participants["group"].value_counts().to_dict() == {"naltrexone": 44, "placebo": 44, "amisulpride": 42}
    assert participants["age"].between(18, 35).all() and participants["bmi"].between(17.7, 29.3).all()
    assert participants["age"].mean() == pytest.approx(23.2, abs=1.0)
    assert participants["bmi"].mean() == pytest.approx(22.6, abs=0.8)
    assert participants["hours_from_pill"].mean() == pytest.approx(4.2, abs=0.1)
    assert (participants["sex"] == "F").mean() == pytest.approx(87 / 130, abs=0.1)
    # most participants believe they had placebo, so placebo participants guess right most often
    assert (participants["guess"] == "placebo").mean() == pytest.approx(64 / 130, abs=0.12)
    correct = (participants["guess"] == participants["group"]).groupby(participants["group"]).mean()
    assert correct["placebo"] > max(correct["amisulpride"], correct["naltrexone"])
    assert participants[["panas_pos_t2", "panas_neg_t2"]].isna().sum().sum() > 0  # a few missing, as in the paper
    assert len(effects) == 130 * 4 and set(parameters["participant"]) == {p[4:] for p in participants["participant_id"]}


def test_simulation_is_deterministic(paper_size) -> None:
    again = simulate_participants(SIMULATION, STUDY)
    for first, second in zip(paper_size, again, strict=True):
        pd.testing.assert_frame_equal(first, second)
    other_seed = simulation_with({"seed": SIMULATION.seed + 1})
    assert not simulate_participants(other_seed, STUDY)[2].equals(paper_size[2])


def test_response_times_and_categories(paper_size) -> None:
    """Presses cluster on the change point; RT outliers by the paper's rule are close to its 2.44%."""
    _, parameters, _ = paper_size
    timing = SIMULATION.timing
    outliers, categories, offsets = [], [], []
    for i, (_, row) in enumerate(parameters.set_index("participant").iterrows()):
        rng = np.random.default_rng(i)
        trials = trial_order(STIMULI, repetitions=4, blocks=2, max_run=3, rng=rng)
        responses = recording.simulate_responses(
            trials, row, video_s=timing.video_s, tail_s=SIMULATION.responses.rt_tail_s, rng=rng
        )
        correct = responses.loc[responses["response"] == "correct", "response_time"]
        z = (correct - correct.mean()) / correct.std()
        outliers.append((z.abs() > 2).sum() / len(trials))
        categories.append(responses["response"])
        offsets.append((correct - trials.loc[correct.index, "change_point_s"]).median())
    shares = pd.concat(categories).value_counts(normalize=True)
    assert np.mean(outliers) == pytest.approx(0.0244, abs=0.008)
    assert shares["correct"] == pytest.approx(0.955, abs=0.02)
    assert set(shares.index) == {"correct", "miss", "wrong_button", "multiple"}
    assert abs(np.median(offsets)) < 0.2  # responses centre on the morph's change point


def test_group_means_match_table_1_on_average() -> None:
    """Averaged over 10 seeds (so sampling noise is small), each group's means are Table 1's."""
    tables = [simulate_participants(simulation_with({"seed": seed}), STUDY)[0] for seed in range(10)]
    pooled = pd.concat(tables)
    pooled = pooled.assign(
        panas_pos_change=pooled["panas_pos_t1"] - pooled["panas_pos_t2"],
        panas_neg_change=pooled["panas_neg_t1"] - pooled["panas_neg_t2"],
    )
    means = pooled.groupby("group")[["age", "bmi", "hours_from_pill", "panas_pos_change", "panas_neg_change"]].mean()
    for group, table in paper.TABLE1.items():
        assert means.loc[group, "age"] == pytest.approx(table["age"][0], abs=0.5)
        assert means.loc[group, "bmi"] == pytest.approx(table["bmi"][0], abs=0.4)
        assert means.loc[group, "hours_from_pill"] == pytest.approx(table["hours"][0], abs=0.05)
        assert means.loc[group, "panas_pos_change"] == pytest.approx(table["panas_pos_change"][0], abs=0.6)
        assert means.loc[group, "panas_neg_change"] == pytest.approx(table["panas_neg_change"][0], abs=0.6)


def test_an_envelope_amplifier_records_a_positive_envelope_that_carries_the_planted_response(paper_size) -> None:
    """``recording="envelope"`` at 100 Hz: positive samples, no mains or offset, and each trial's mean log level in
    its last window above its baseline follows the planted log gain of that window."""
    _, parameters, effects = paper_size
    simulation = simulation_with({"sampling_frequency": 100.0})
    label = parameters["participant"].iloc[0]
    simulated = recording.simulate_recording(
        label,
        parameters.set_index("participant").loc[label],
        effects[effects["participant"] == label],
        STIMULI,
        simulation,
        STUDY,
        "envelope",
    )
    assert simulated.sfreq == 100.0 and (simulated.data > 0).all()
    events = simulated.events[simulated.events["block"] > 0]
    truth = simulated.truth[simulated.truth["window"] == 5].set_index(["trial", "muscle"])["planted_log_gain"]
    measured = {}
    for m, muscle in enumerate(STUDY.muscles):
        log_level = np.log(simulated.data[m])
        for trial, sample in zip(events["trial"], events["sample"], strict=True):
            measured[(trial, muscle)] = (
                log_level[sample + 400 : sample + 500].mean() - log_level[sample - 50 : sample].mean()
            )
    measured = pd.Series(measured).reindex(truth.index)
    assert np.corrcoef(measured, truth)[0, 1] > 0.6
    # the amplifier's band-pass removed the DC offset (hundreds of µV in the broadband recording)
    assert np.median(simulated.data) < 20e-6
