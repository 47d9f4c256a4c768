"""Each universe's estimates, the joint test across universes against permutations, and the forks' shares of the
variance (mimicry.multiverse.estimands, mimicry.multiverse.joint)."""

import time

import pandas as pd

from mimicry.joblog import job_log
from mimicry.multiverse.estimands import study_summaries
from mimicry.multiverse.forks import universes as universes_of
from mimicry.multiverse.joint import decisions, joint_tests, specifications
from mimicry.multiverse.summary import methods_paragraph
from mimicry.study import Study

with job_log(snakemake.log[0], "multiverse_inference") as log:
    params = snakemake.params
    universes = universes_of(params.plan)
    study = Study.from_config(params.study)
    means = pd.read_parquet(snakemake.input.means)
    table = pd.read_csv(snakemake.input.universes, sep="\t")
    started = time.process_time()
    found, questions = study_summaries(means, table, universes, study, params.followup)
    specs = specifications(found, questions, study.reference_group, params.alpha)
    joint = joint_tests(
        found,
        questions,
        study.reference_group,
        params.multiverse["permutations"],
        params.multiverse["seed"],
        params.alpha,
    )
    log.info(
        "%d universes x %d estimands, %d permutations: %.1f s CPU",
        len(table),
        len(questions),
        params.multiverse["permutations"],
        time.process_time() - started,
    )
    for row in joint[joint["statistic"] == "Stouffer's Z"].itertuples():
        log.info("%s: Stouffer's Z %.2f, permutation p %.3f", row.estimand, row.observed, row.p)
    specs.to_csv(snakemake.output.specifications, sep="\t", index=False)
    joint.to_csv(snakemake.output.joint_test, sep="\t", index=False)
    decisions(specs, table, list(params.multiverse["forks"])).to_csv(snakemake.output.decisions, sep="\t", index=False)
    paragraph = methods_paragraph(
        params.multiverse["forks"],
        params.multiverse["exclude"],
        params.collapsed,
        len(table),
        [question.name for question in questions],
        params.multiverse["permutations"],
        params.alpha,
    )
    with open(snakemake.output.methods, "w", encoding="utf-8") as out:
        out.write(paragraph + "\n")
