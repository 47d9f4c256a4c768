"""Snakemake plumbing: what the workflow's rule files need from Python that is not about the study (the code
files a rule's script runs, the scheduler's wake-ups)."""
