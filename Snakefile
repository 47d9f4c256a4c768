# Facial mimicry under dopamine D2/3 and opioid antagonism (Korb et al. 2023), as a reproducible workflow.
# Entry point: `snakemake --cores all` (see README.md). Stages live in workflow/rules/, one file each.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# one pending scheduler wake-up instead of one per finished job (mimicry.plumbing.scheduling says why)
coalesce_wakeups()


include: "workflow/rules/simulate.smk"


if FROM_TABLES:  # the user brings trial tables: the statistics start from them

    include: "workflow/rules/tables.smk"

else:

    include: "workflow/rules/dataset.smk"
    include: "workflow/rules/preprocess.smk"


include: "workflow/rules/statistics.smk"
include: "workflow/rules/bayes.smk"
include: "workflow/rules/report.smk"


if not POWER_PROBLEMS:  # the power analysis, on request (`snakemake power`)

    include: "workflow/rules/power.smk"


if not CALIBRATION_PROBLEMS:  # the simulation-based calibration, on request (`snakemake calibration`)

    include: "workflow/rules/calibration.smk"


if not MULTIVERSE_PROBLEMS:  # the multiverse, on request (`snakemake multiverse`)

    include: "workflow/rules/multiverse.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


if not POWER_PROBLEMS:

    rule power:
        """The power analysis (`snakemake power --cores all --configfile config/power.yaml`; not part of `all`)."""
        input:
            rules.power_summary.output,

else:

    rule power:
        """What keeps the power analysis from running on this study, and what to set."""
        params:
            problems="Invalid power analysis: " + "; ".join(POWER_PROBLEMS),
        shell:
            "echo {params.problems:q} >&2; exit 1"


if not CALIBRATION_PROBLEMS:

    rule calibration:
        """Simulation-based calibration of the asymptotic model (`snakemake calibration --cores all --configfile
        config/calibration.yaml`; not part of `all`)."""
        input:
            rules.calibration_summary.output,

else:

    rule calibration:
        """What keeps the calibration from running on this study, and what to set."""
        params:
            problems="Invalid calibration: " + "; ".join(CALIBRATION_PROBLEMS),
        shell:
            "echo {params.problems:q} >&2; exit 1"


if not MULTIVERSE_PROBLEMS:

    rule multiverse:
        """The multiverse (`snakemake multiverse --cores all --configfile config/multiverse.yaml`; not part of
        `all`)."""
        input:
            rules.multiverse_inference.output,
            rules.multiverse_figures.output,
            rules.multiverse_bayes_contrasts.output if BAYES_MODELS else [],

else:

    rule multiverse:
        """What keeps the multiverse from running on this study, and what to set (a plain run plans this rule:
        it has what every rule has)."""
        log:
            "results/logs/multiverse.log",
        conda:
            "envs/emg.yaml"
        params:
            problems="Invalid multiverse: " + "; ".join(MULTIVERSE_PROBLEMS),
        shell:
            "echo {params.problems:q} >&2; exit 1"
