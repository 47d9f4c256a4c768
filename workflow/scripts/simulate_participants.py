"""Draw the simulated participants; write participants.tsv, the dataset description and the ground truth."""

import shutil
from pathlib import Path

from mimicry.bids.write import write_dataset_description, write_participants, write_tsv
from mimicry.joblog import job_log
from mimicry.settings import SimulationSettings
from mimicry.simulate.participants import planted_conditions, simulate_participants
from mimicry.study import Study

with job_log(snakemake.log[0], "simulate_participants") as log:
    study = Study.from_config(snakemake.params.study)
    simulation = SimulationSettings.from_config(snakemake.params.simulation)
    participants, parameters, effects = simulate_participants(simulation, study)
    root = Path(snakemake.output.participants).parent
    # The simulated tree belongs to the workflow: recordings of participants a previous config had, and this one
    # has not, would make the dataset invalid, so they go.
    for stale in sorted(set(root.glob("sub-*")) - {root / pid for pid in participants["participant_id"]}):
        log.info("removing %s: not a participant of this simulation", stale)
        shutil.rmtree(stale)
    write_participants(participants, root)
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
    log.info("simulated %d participants: %s", len(participants), participants["group"].value_counts().to_dict())
