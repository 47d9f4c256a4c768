"""Draw the simulated participants (and, in a crossover, their sessions); write participants.tsv, the sessions
files, the dataset description and the ground truth."""

import shutil
from pathlib import Path

from mimicry.bids.write import write_dataset_description, write_participants, write_sessions, write_tsv
from mimicry.joblog import job_log
from mimicry.settings import SimulationSettings
from mimicry.simulate.crossover import simulate_crossover
from mimicry.simulate.participants import planted_conditions, simulate_participants
from mimicry.study import Study

with job_log(snakemake.log[0], "simulate_participants") as log:
    study = Study.from_config(snakemake.params.study)
    simulation = SimulationSettings.from_config(snakemake.params.simulation)
    if study.crossover:
        participants, sessions, parameters, effects = simulate_crossover(simulation, study)
    else:
        participants, parameters, effects = simulate_participants(simulation, study)
    root = Path(snakemake.output.participants).parent
    # The simulated tree belongs to the workflow: recordings of participants (or of a design) a previous config had,
    # and this one has not, would make the dataset invalid, so they go.
    kept = {root / pid for pid in participants["participant_id"]}
    stale = sorted(set(root.glob("sub-*")) - kept)
    stale += sorted(path for folder in kept for path in folder.glob("ses-*" if not study.crossover else "emg"))
    for path in stale:
        log.info("removing %s: not a recording of this simulation", path)
        shutil.rmtree(path)
    write_participants(participants, root)
    if study.crossover:
        write_sessions(sessions, root)
    write_dataset_description(root, "Simulated facial mimicry study (Korb et al. 2023 design)", "mimicry simulator")
    Path(snakemake.output.readme).write_text(
        "Simulated facial-mimicry study written by the mimicry workflow's simulator.\n"
        f"Seed {simulation.seed}; {len(participants)} participants; ground truth in "
        f"{Path(snakemake.output.effects).parent}.\n",
        encoding="utf-8",
    )
    write_tsv(parameters, snakemake.output.parameters)
    write_tsv(effects, snakemake.output.effects)
    write_tsv(planted_conditions(simulation, study), snakemake.output.conditions)
    if study.crossover:
        log.info("simulated %d participants, %d sessions each (Williams design)", len(participants), len(study.groups))
    else:
        log.info("simulated %d participants: %s", len(participants), participants["group"].value_counts().to_dict())
