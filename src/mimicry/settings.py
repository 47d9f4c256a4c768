"""The typed settings each stage builds from the validated config (:mod:`mimicry.config`): every value from the
config, no defaults of their own (the schema, ``workflow/schemas/config.schema.yaml``, holds them all)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EmgSettings:
    """The EMG preprocessing choices (``preprocessing.emg``)."""

    #: ``raw``: broadband EMG, filtered and rectified here; ``envelope``: already rectified and smoothed by the
    #: amplifier, so the chain starts at the epochs
    input: str
    l_freq: float
    h_freq: float
    l_trans_bandwidth: float
    h_trans_bandwidth: float
    notch_harmonics: int
    smoothing_h_freq: float
    smoothing_trans_bandwidth: float
    tmin: float
    tmax: float
    n_sd: float
    rules: tuple[str, ...]
    scope: str
    window_s: float
    n_windows: int
    timecourse_bin_s: float
    log_floor: float
    flat_sd_uv: float
    on_bad_recording: str

    @classmethod
    def from_config(cls, emg: Mapping[str, Any]) -> EmgSettings:
        return cls(
            input=emg["input"],
            l_freq=emg["bandpass"]["l_freq"],
            h_freq=emg["bandpass"]["h_freq"],
            l_trans_bandwidth=emg["bandpass"]["l_trans_bandwidth"],
            h_trans_bandwidth=emg["bandpass"]["h_trans_bandwidth"],
            notch_harmonics=emg["notch_harmonics"],
            smoothing_h_freq=emg["smoothing"]["h_freq"],
            smoothing_trans_bandwidth=emg["smoothing"]["h_trans_bandwidth"],
            tmin=emg["epoch"]["tmin"],
            tmax=emg["epoch"]["tmax"],
            n_sd=emg["rejection"]["n_sd"],
            rules=tuple(emg["rejection"]["rules"]),
            scope=emg["rejection"]["scope"],
            window_s=emg["windows"]["length_s"],
            n_windows=emg["windows"]["count"],
            timecourse_bin_s=emg["timecourse_bin_s"],
            log_floor=emg["log_floor"],
            flat_sd_uv=emg["flat_sd_uv"],
            on_bad_recording=emg["on_bad_recording"],
        )

    def min_sampling_frequency(self) -> float:
        """Raw EMG: the band-pass's upper transition band must fit below Nyquist. An envelope: every time-course
        bin, window and the baseline must hold at least one sample."""
        if self.input == "envelope":
            return 1.0 / min(self.timecourse_bin_s, self.window_s, -self.tmin)
        return 2.0 * (self.h_freq + self.h_trans_bandwidth / 2.0)


@dataclass(frozen=True)
class Priors:
    """The asymptotic model's priors (``statistics.bayes.priors``): normal on the fixed effects of a and c,
    half-normal on every SD, LKJ on the brms variant's correlations; and whether b has a population intercept
    (``statistics.bayes.b_intercept``; with the asymptote's prior)."""

    asymptote_mu: float
    asymptote_sigma: float
    rate_mu: float
    rate_sigma: float
    random_sd: float
    residual_sd: float
    lkj_eta: float
    b_intercept: bool

    @classmethod
    def from_config(cls, bayes: Mapping[str, Any]) -> Priors:
        """From ``statistics.bayes`` (its ``priors`` group and ``b_intercept``)."""
        priors = bayes["priors"]
        return cls(
            asymptote_mu=priors["asymptote"]["mu"],
            asymptote_sigma=priors["asymptote"]["sigma"],
            rate_mu=priors["rate"]["mu"],
            rate_sigma=priors["rate"]["sigma"],
            random_sd=priors["random_sd"],
            residual_sd=priors["residual_sd"],
            lkj_eta=priors["lkj_eta"],
            b_intercept=bayes["b_intercept"],
        )


@dataclass(frozen=True)
class Sampling:
    """How to sample (``statistics.bayes``): implementation, sampler, chains x (warm-up + draws), and the cores
    the job has (not a config key: Snakemake's ``threads``)."""

    variant: str  #: bambi | brms
    parameterization: str  #: marginal | joint
    sampler: str  #: nutpie | pymc
    chains: int
    warmup: int
    draws: int
    target_accept: float
    seed: int
    cores: int

    @property
    def iterations(self) -> int:
        """Iterations per chain, warm-up included (brms's ``iter``)."""
        return self.warmup + self.draws

    @classmethod
    def from_config(cls, bayes: Mapping[str, Any], cores: int) -> Sampling:
        return cls(
            variant=bayes["variant"],
            parameterization=bayes["parameterization"],
            sampler=bayes["sampler"],
            chains=bayes["chains"],
            warmup=bayes["warmup"],
            draws=bayes["iterations"] - bayes["warmup"],
            target_accept=bayes["target_accept"],
            seed=bayes["seed"],
            cores=cores,
        )


@dataclass(frozen=True)
class Diagnostics:
    """The convergence gate (``statistics.bayes.diagnostics``): what a fit must reach, and what to do when it
    does not (fail | mark)."""

    max_rhat: float
    min_ess_bulk: float
    max_divergences: int
    on_failure: str

    @classmethod
    def from_config(cls, diagnostics: Mapping[str, Any]) -> Diagnostics:
        return cls(
            max_rhat=diagnostics["max_rhat"],
            min_ess_bulk=diagnostics["min_ess_bulk"],
            max_divergences=diagnostics["max_divergences"],
            on_failure=diagnostics["on_failure"],
        )


@dataclass(frozen=True)
class Timing:
    """A simulated session's timeline in seconds (``simulation.timing``)."""

    lead_in_s: float
    practice_trials: int
    practice_pause_s: float
    block_break_s: float
    fixation_s: tuple[float, float]
    video_s: float
    feedback_s: float
    lead_out_s: float

    @classmethod
    def from_config(cls, timing: Mapping[str, Any]) -> Timing:
        return cls(**{**timing, "fixation_s": tuple(timing["fixation_s"])})


@dataclass(frozen=True)
class TaskDesign:
    """How the simulated task orders its trials (``simulation.design``)."""

    repetitions: int
    blocks: int
    max_same_emotion_in_a_row: int


@dataclass(frozen=True)
class DrugEffect:
    """An effect planted on one group x muscle x emotion's curve (``simulation.drug_effects``): added to its
    asymptote ``a`` and its log rate ``c``."""

    group: str
    muscle: str
    emotion: str
    asymptote: float = 0.0  # the schema lets an effect name only one of the two parameters
    rate: float = 0.0


@dataclass(frozen=True)
class PopulationCurve:
    """A muscle x emotion's population curve (``simulation.response``): asymptote ``a``, log rate ``c``."""

    a: float
    c: float


@dataclass(frozen=True)
class ParticipantSd:
    """How much participants' own curves scatter around the population's (``simulation.participant_sd``)."""

    a: float
    b: float
    c: float


@dataclass(frozen=True)
class CrossoverSimulation:
    """A simulated crossover (``simulation.crossover``): how many participants, and what acts beside the drug."""

    participants: int
    #: added to every asymptote per period after the first
    period_effect_a: float
    #: SD of each participant's own drug effect (participant x drug) on a, b, c
    drug_sd: ParticipantSd
    #: the share of the previous session's drug effect still acting
    carryover: float

    @classmethod
    def from_config(cls, crossover: Mapping[str, Any]) -> CrossoverSimulation:
        return cls(**{**crossover, "drug_sd": ParticipantSd(**crossover["drug_sd"])})


@dataclass(frozen=True)
class SimulatedEmg:
    """The simulated amplifier and skin (``simulation.emg``), in microvolts."""

    baseline_amplitude_uv: Mapping[str, float]
    amplitude_sd_log: float
    dc_offset_sd_uv: float
    drift_sd_uv: float
    mains_amplitude_uv: float
    amplifier_noise_uv: float


@dataclass(frozen=True)
class ArtefactRates:
    """The share of trials with each artefact (``simulation.artefacts``)."""

    burst: float
    spike: float
    baseline: float


@dataclass(frozen=True)
class SimulatedResponses:
    """Key presses of the simulated participants (``simulation.responses``)."""

    change_point_sd_s: float
    rt_sd_s: float
    rt_tail_s: float
    miss: float
    wrong_button: float
    multiple: float


@dataclass(frozen=True)
class SimulationSettings:
    """The study simulator (``simulation``): who takes part, what is recorded, and the planted truth."""

    enabled: bool
    seed: int
    participants_per_group: Mapping[str, int]
    crossover: CrossoverSimulation
    sampling_frequency: float
    line_frequency: float
    timing: Timing
    design: TaskDesign
    #: population curve per muscle x emotion
    response: Mapping[str, Mapping[str, PopulationCurve]]
    participant_sd: ParticipantSd
    trial_response_sd: float
    tonic_sd: float
    tonic_timescale_s: float
    drug_effects: tuple[DrugEffect, ...]
    emg: SimulatedEmg
    artefacts: ArtefactRates
    responses: SimulatedResponses

    @classmethod
    def from_config(cls, simulation: Mapping[str, Any]) -> SimulationSettings:
        return cls(
            **{
                **simulation,
                "participants_per_group": dict(simulation["participants_per_group"]),
                "crossover": CrossoverSimulation.from_config(simulation["crossover"]),
                "timing": Timing.from_config(simulation["timing"]),
                "design": TaskDesign(**simulation["design"]),
                "response": {
                    muscle: {emotion: PopulationCurve(**curve) for emotion, curve in emotions.items()}
                    for muscle, emotions in simulation["response"].items()
                },
                "participant_sd": ParticipantSd(**simulation["participant_sd"]),
                "drug_effects": tuple(DrugEffect(**effect) for effect in simulation["drug_effects"]),
                "emg": SimulatedEmg(**simulation["emg"]),
                "artefacts": ArtefactRates(**simulation["artefacts"]),
                "responses": SimulatedResponses(**simulation["responses"]),
            }
        )

    def participant_labels(self, crossover: bool = False) -> list[str]:
        """BIDS labels of the simulated participants: ``001``, ``002``, ... (zero-padded to 3 digits at least);
        ``crossover``: the crossover's participants (``crossover.participants``), else the groups'."""
        n = self.crossover.participants if crossover else sum(self.participants_per_group.values())
        width = max(3, len(str(n)))
        return [f"{i:0{width}d}" for i in range(1, n + 1)]


@dataclass(frozen=True)
class PowerTarget:
    """Where the power analysis plants its effect (``power.target``): a muscle x emotion's asymptote (``a``) or
    log rate (``c``) in the drug groups (none named: every group but the reference)."""

    muscle: str
    emotion: str
    parameter: str
    groups: tuple[str, ...]

    @classmethod
    def from_config(cls, target: Mapping[str, Any]) -> PowerTarget:
        return cls(**{**target, "groups": tuple(target["groups"])})

    @property
    def parameter_name(self) -> str:
        """``asymptote`` or ``rate``: the name of a :class:`DrugEffect` field."""
        return {"a": "asymptote", "c": "rate"}[self.parameter]


@dataclass(frozen=True)
class PowerBayesSettings:
    """The Bayesian decision rules' share of the power analysis (``power.bayes``)."""

    replicates: int
    batch: int
    chains: int
    warmup: int
    draws: int
    lopo_draws: int


@dataclass(frozen=True)
class PowerWithinSettings:
    """The crossover design of the power grid (``power.within``): its sizes, and its LMM rules' formulas when the
    study itself is a between-participant one."""

    #: participants to simulate, each recorded once per drug; empty: ``simulation.crossover.participants``
    participants: tuple[int, ...]
    #: ``emg``, ``followup``: the crossover's formulas (a crossover study's own are in ``statistics``)
    formulas: Mapping[str, str]


@dataclass(frozen=True)
class PowerSettings:
    """The power analysis's grid and decision threshold (``power``)."""

    target: PowerTarget
    effects: tuple[float, ...]
    #: the designs compared (``between``, ``within``); empty: the study's own
    designs: tuple[str, ...]
    #: group sizes to simulate; empty: the simulated study's own
    participants_per_group: tuple[int, ...]
    within: PowerWithinSettings
    replicates: int
    batch: int
    seed: int
    alpha: float
    target_power: float
    bayes: PowerBayesSettings

    @classmethod
    def from_config(cls, power: Mapping[str, Any]) -> PowerSettings:
        return cls(
            **{
                **power,
                "target": PowerTarget.from_config(power["target"]),
                "effects": tuple(float(effect) for effect in power["effects"]),
                "designs": tuple(power["designs"]),
                "participants_per_group": tuple(power["participants_per_group"]),
                "within": PowerWithinSettings(
                    tuple(power["within"]["participants"]), dict(power["within"]["formulas"])
                ),
                "bayes": PowerBayesSettings(**power["bayes"]),
            }
        )


@dataclass(frozen=True)
class CalibrationSettings:
    """``calibration``: how many simulations in batches of how many, the seed, each fit's chains, warm-up and
    draws, among how many thinned draws each rank is taken, and the nested model calibrated."""

    simulations: int
    batch: int
    seed: int
    chains: int
    warmup: int
    draws: int
    ranks: int
    model: str

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CalibrationSettings:
        return cls(**{key: section[key] for key in cls.__dataclass_fields__})

    def batches(self) -> list[tuple[int, ...]]:
        """The simulations of each batch job, numbered from 0."""
        return [
            tuple(range(start, min(start + self.batch, self.simulations)))
            for start in range(0, self.simulations, self.batch)
        ]
