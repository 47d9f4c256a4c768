"""Every universe's window means for one participant, in one pass over the recording.

Each step's result is computed once and shared by every later choice: a band-pass per band, a notch per band and
notch, an envelope and its epochs per signal variant, the outlier rule's verdicts per rule, the baseline-corrected
epochs per rule and baseline. The main analysis's universe runs :mod:`mimicry.emg`'s own functions in its order,
so its means are those of the main analysis's window table to the bit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mimicry.emg import band_pass, bin_means, epochs, notch, rectify_and_smooth
from mimicry.multiverse.forks import Universe
from mimicry.multiverse.signal import baseline_corrected, range_reasons, rms_envelope
from mimicry.outliers import apply_scope, outlier_reasons, trial_measures
from mimicry.settings import EmgSettings

#: Columns of a participant's universe means: one row per universe x muscle x emotion x window.
MEANS_COLUMNS = {
    "universe": "int64",
    "participant": "string",
    "muscle": "string",
    "emotion": "string",
    "window": "int64",
    "response": "float64",
    "trials": "int64",
}
#: Columns of a participant's universe summary: one row per universe x muscle.
SUMMARY_COLUMNS = {
    "universe": "int64",
    "participant": "string",
    "muscle": "string",
    "trials": "int64",
    "rejected": "int64",
    "floored_samples": "int64",
}


#: The settings an envelope's epochs depend on.
EPOCH_SETTINGS = ("input", "bandpass", "notch_harmonics", "smoothing", "epoch")


def _key(settings: Mapping[str, Any], *names: str) -> str:
    """A hashable key of the named settings (what a step depends on)."""
    return json.dumps({name: settings[name] for name in names}, sort_keys=True)


class _Steps:
    """The shared steps of one participant: each computed on first use, kept while later universes need it."""

    def __init__(self, raw: Any, onsets: np.ndarray, line_frequency: float) -> None:
        self.raw, self.onsets, self.line_frequency = raw, onsets, line_frequency
        self.cache: dict[tuple[str, Hashable], Any] = {}

    def _once(self, step: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        if (step, key) not in self.cache:
            self.cache[(step, key)] = compute()
        return self.cache[(step, key)]

    def signal(self, settings: Mapping[str, Any]) -> Any:
        """The envelope (or, for envelope recordings, the recording itself)."""
        emg = EmgSettings.from_config(settings)
        if emg.input == "envelope":
            return self.raw
        band = _band_key(settings)
        passed = self._once("band", band, lambda: band_pass(self.raw.copy(), emg))
        notched_key = _notch_key(settings)
        notched = self._once("notch", notched_key, lambda: notch(passed.copy(), emg, self.line_frequency))
        smoothing = settings["smoothing"]

        def compute() -> Any:
            if smoothing["method"] == "rms":
                return rms_envelope(notched.copy(), smoothing["rms_window_s"])
            return rectify_and_smooth(notched.copy(), emg)

        return self._once("envelope", notched_key + _key(settings, "smoothing"), compute)

    def epochs(self, settings: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = _key(settings, *EPOCH_SETTINGS)
        return self._once(
            "epochs", key, lambda: epochs(self.signal(settings), self.onsets, EmgSettings.from_config(settings))
        )

    def reasons(self, settings: Mapping[str, Any], muscles: list[str]) -> np.ndarray:
        """Each trial x muscle's rejection reason ('' kept) under the universe's rule and scope."""
        key = _key(settings, *EPOCH_SETTINGS, "rejection")

        def compute() -> np.ndarray:
            data, times, valid = self.epochs(settings)
            rejection = settings["rejection"]
            if rejection["method"] == "range":
                reasons = range_reasons(data, valid, rejection["range_factor"])
            else:
                reasons = outlier_reasons(
                    trial_measures(data, times), valid, tuple(rejection["rules"]), rejection["n_sd"]
                )
            return apply_scope(reasons, muscles, rejection["scope"])

        return self._once("reasons", key, compute)

    @staticmethod
    def _corrected_key(settings: Mapping[str, Any]) -> str:
        # only the z-score depends on which trials are kept (its SD is over them)
        depends = ("rejection", "log_floor") if settings["baseline"] == "zscore" else ("log_floor",)
        return _key(settings, *EPOCH_SETTINGS, "baseline", *depends)

    def corrected(self, settings: Mapping[str, Any], muscles: list[str]) -> tuple[np.ndarray, np.ndarray]:
        key = self._corrected_key(settings)

        def compute() -> tuple[np.ndarray, np.ndarray]:
            data, times, _ = self.epochs(settings)
            kept = self.reasons(settings, muscles) == ""
            return baseline_corrected(data, times, kept, settings["baseline"], settings["log_floor"])

        return self._once("corrected", key, compute)

    def windows(self, settings: Mapping[str, Any], muscles: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Trials x muscles x windows of the baseline-corrected response, and the floored samples per muscle."""
        emg = EmgSettings.from_config(settings)

        def compute() -> tuple[np.ndarray, np.ndarray]:
            _, times, _ = self.epochs(settings)
            values, floored = self.corrected(settings, muscles)
            return bin_means(values, times, self.raw.info["sfreq"], 0.0, emg.window_s, emg.n_windows), floored

        return self._once("windows", (self._corrected_key(settings), emg.window_s, emg.n_windows), compute)

    def keep_only(self, band: str, notched: str) -> None:
        """Forget every step but the band-pass and notch the next signal variant starts from (memory: a copy of
        the recording per variant)."""
        self.cache = {key: value for key, value in self.cache.items() if key in {("band", band), ("notch", notched)}}


def _band_key(settings: Mapping[str, Any]) -> str:
    return _key(settings, "bandpass")


def _notch_key(settings: Mapping[str, Any]) -> str:
    return _band_key(settings) + _key(settings, "notch_harmonics")


def _signal_order(universe: Universe) -> str:
    """Universes sorted by this share each signal variant in a run, and each band-pass and notch in a run."""
    return _key(universe.settings, "bandpass", "notch_harmonics", "smoothing", "epoch")


def universe_means(
    raw: Any,
    trials: pd.DataFrame,
    channels: Mapping[str, str],
    universes: Sequence[Universe],
    line_frequency: float,
    participant: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every universe's mean response per muscle x emotion x window over the participant's kept trials
    (:data:`MEANS_COLUMNS`), and per universe x muscle the trials kept and rejected (:data:`SUMMARY_COLUMNS`).

    ``raw``: the loaded recording (MNE); ``trials``: its experimental trials (onset, trial_type); ``channels``:
    muscle -> channel name. A muscle whose every trial a universe rejects has no means in that universe.
    """
    muscles = list(channels)
    raw.pick([channels[m] for m in muscles])
    steps = _Steps(raw, trials["onset"].to_numpy(float), line_frequency)
    emotions = trials["trial_type"].to_numpy(str)
    n_trials = len(trials)
    rows: list[dict[str, np.ndarray]] = []
    summaries = []
    previous = None
    for universe in sorted(universes, key=_signal_order):
        settings = universe.settings
        if _signal_order(universe) != previous:
            steps.keep_only(_band_key(settings), _notch_key(settings))
            previous = _signal_order(universe)
        emg = EmgSettings.from_config(settings)
        _, _, valid = steps.epochs(settings)
        rejected = steps.reasons(settings, muscles) != ""
        windows, floored = steps.windows(settings, muscles)
        kept = np.repeat(~rejected.reshape(-1), emg.n_windows)
        rows.append(
            {
                "universe": np.full(int(kept.sum()), universe.number),
                "muscle": np.tile(np.repeat(muscles, emg.n_windows), n_trials)[kept],
                "emotion": np.repeat(emotions, len(muscles) * emg.n_windows)[kept],
                "window": np.tile(np.arange(1, emg.n_windows + 1), n_trials * len(muscles))[kept],
                "response": windows.reshape(-1)[kept],
            }
        )
        summaries.append(
            pd.DataFrame(
                {
                    "universe": universe.number,
                    "muscle": muscles,
                    "trials": int(valid.sum()),
                    "rejected": rejected[valid].sum(axis=0),
                    "floored_samples": floored,
                }
            )
        )
    # one group-by over every universe: each cell's mean sums its trials in trial order, as the main analysis's does
    table = pd.DataFrame({name: np.concatenate([part[name] for part in rows]) for name in rows[0]})
    cell = table.groupby(["universe", "muscle", "emotion", "window"], sort=True)["response"]
    out = cell.mean().to_frame().join(cell.size().rename("trials")).reset_index()
    out.insert(1, "participant", participant)
    summary = pd.concat(summaries, ignore_index=True)
    summary.insert(1, "participant", participant)
    order = ["universe", "muscle", "emotion", "window"]
    return (
        out.sort_values(order).reset_index(drop=True)[list(MEANS_COLUMNS)].astype(MEANS_COLUMNS),
        summary.sort_values(["universe", "muscle"]).reset_index(drop=True).astype(SUMMARY_COLUMNS),
    )


def empty_outputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outputs of a participant excluded from the analysis (a recording the main analysis excludes too)."""
    return (
        pd.DataFrame(columns=list(MEANS_COLUMNS)).astype(MEANS_COLUMNS),
        pd.DataFrame(columns=list(SUMMARY_COLUMNS)).astype(SUMMARY_COLUMNS),
    )
