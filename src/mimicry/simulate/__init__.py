"""A facial-mimicry pharmacology study simulator with known ground truth.

The simulated study follows Korb et al. (2023): participants in drug groups (Table 1 demographics,
:mod:`~mimicry.simulate.paper`) watch morphing faces (96 trials) while the EMG of corrugator supercilii and
zygomaticus major is recorded at 1200 Hz, and press a key when the expression changes.
:mod:`~mimicry.simulate.participants` draws the participants, their hidden parameters and their own mimicry
curves; :mod:`~mimicry.simulate.recording` draws one participant's session (trial order, responses, EMG).

Everything is drawn from ``numpy.random.Generator`` streams derived from one seed: the study-level stream for
participants and their parameters, and one stream per participant (``[seed, 1, number]``) for the recording,
so each participant's recording is reproducible on its own, in any job order.
"""
