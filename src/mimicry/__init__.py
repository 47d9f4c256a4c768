"""Domain logic of the facial-mimicry pharmacology workflow.

Reproduces Korb et al. (2023), "Facial mimicry is not modulated by dopamine D2/3 and opioid receptor
antagonism" (Psychopharmacology), as small pure functions that the Snakemake rule scripts call:

- :mod:`mimicry.study`     the study design read from config (groups, muscles, emotions, channels);
- :mod:`mimicry.task`    stimuli, trial order and session timeline of the morphing-faces task;
- :mod:`mimicry.simulate`  a study simulator with known ground truth (demographics, EMG, responses);
- :mod:`mimicry.power.fastpath`  the simulated study's window values without EMG, for analyses of many studies;
- :mod:`mimicry.power`     what drug effect the design could detect (power and false positives of its rules);
- :mod:`mimicry.bids`      BIDS 1.11 EMG writing, reading (MNE-BIDS) and validation;
- :mod:`mimicry.emg`, :mod:`mimicry.rt`, :mod:`mimicry.qc`  per-participant preprocessing and its QC figure;
- :mod:`mimicry.gather`, :mod:`mimicry.tables`  group tables, from the jobs or from a user's own tables;
- :mod:`mimicry.table1`, :mod:`mimicry.lmm`, :mod:`mimicry.figures`  group statistics I;
- :mod:`mimicry.bayes`     group statistics II (the Bayesian asymptotic regression, Table 2);
- :mod:`mimicry.provenance`, :mod:`mimicry.methods`, :mod:`mimicry.findings`  the study report;
- :mod:`mimicry.errors`    input errors that name the file, the participant and the problem.
"""

__version__ = "0.1.0"
