"""The columns and types of the group tables the statistics read: the contract every input mode (the simulated or
a lab's BIDS-EMG study preprocessed here, or a lab's own trial tables) fulfils."""

#: The trial x muscle x window table (``emg_windows.parquet``): the column types, whatever the input mode.
WINDOW_DTYPES = {
    "participant": "string",
    "trial": "int64",
    "video": "string",
    "face": "string",
    "block": "int64",
    "emotion": "string",
    "muscle": "string",
    "window": "int64",
    "log_emg": "float64",
    "rejected": "bool",
    "reason": "string",
}
#: The trial x muscle x time-bin table (``emg_timecourse.parquet``).
TIMECOURSE_DTYPES = {
    "participant": "string",
    "trial": "int64",
    "emotion": "string",
    "muscle": "string",
    "time_s": "float64",
    "log_emg": "float64",
    "rejected": "bool",
}
#: The trial table of the response task (``rt_trials.parquet``).
RT_DTYPES = {
    "participant": "string",
    "trial": "int64",
    "video": "string",
    "face": "string",
    "block": "int64",
    "emotion": "string",
    "response": "string",
    "response_time": "float64",
    "rt_z": "float64",
    "rt_outlier": "bool",
    "rt_included": "bool",
}
