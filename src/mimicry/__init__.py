"""Domain logic of the facial-mimicry pharmacology workflow.

Reproduces Korb et al. (2023), "Facial mimicry is not modulated by dopamine D2/3 and opioid receptor
antagonism" (Psychopharmacology), as small pure functions that the Snakemake rule scripts call. Layers, bottom to
top (a module imports from its own layer or below; docs/development.md, tests/test_layers.py):

0. foundations: :mod:`~mimicry.errors`, :mod:`~mimicry.curve`, :mod:`~mimicry.study`, :mod:`~mimicry.config`,
   :mod:`~mimicry.settings`;
1. data contracts and plumbing: :mod:`~mimicry.task`, :mod:`~mimicry.bids`, :mod:`~mimicry.table_columns`,
   :mod:`~mimicry.joblog`, :mod:`~mimicry.rsession`, :mod:`~mimicry.plumbing`;
2. one participant or table at a time: :mod:`~mimicry.simulate`, :mod:`~mimicry.outliers`, :mod:`~mimicry.emg`,
   :mod:`~mimicry.rt`, :mod:`~mimicry.qc`, :mod:`~mimicry.tables`, :mod:`~mimicry.gather`, :mod:`~mimicry.inputs`,
   the model specs and plans (:mod:`~mimicry.lmm_specs`, :mod:`~mimicry.bayes_specs`,
   :mod:`~mimicry.calibration_plan`);
3. inference: :mod:`~mimicry.lmm`, :mod:`~mimicry.lmm_checks`, :mod:`~mimicry.bayes`;
4. analyses over many simulated studies: :mod:`~mimicry.power`, :mod:`~mimicry.calibration`,
   :mod:`~mimicry.multiverse.null_studies`;
5. the report: :mod:`~mimicry.table1`, :mod:`~mimicry.figures`, :mod:`~mimicry.findings`,
   :mod:`~mimicry.check_findings`, :mod:`~mimicry.report_tables`, :mod:`~mimicry.methods`, :mod:`~mimicry.provenance`.
"""

#: The workflow's version (the one place it is kept; pyproject.toml reads it from here).
__version__ = "0.2.0"
