"""Power and false-positive rates of the study's decision rules, from many simulated studies with planted drug
effects (the paper's closing question: what effect could this design have detected?).

Each replicate is a whole study drawn from the simulator with a drug effect planted on one muscle x emotion
(:mod:`~mimicry.power.studies`), its trial x window values drawn by the fast path
(:mod:`~mimicry.power.fastpath`), and the paper's decision rules applied to it: the frequentist ones
(:mod:`~mimicry.power.lmm_rules`: the follow-up LMM's drug x time test and the full model's emotion x drug x time
test of the target muscle) and the Bayesian ones on the first of the same studies
(:mod:`~mimicry.power.bayes_rules`). :mod:`~mimicry.power.planning` lays out the grid and its jobs (what the
workflow needs to plan them, nothing heavier); :mod:`~mimicry.power.summary` turns the replicates into power,
intervals, the smallest detectable effect and the methods paragraph.
"""
