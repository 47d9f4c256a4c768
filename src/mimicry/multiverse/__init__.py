"""The multiverse: the study analysed under every combination of defensible preprocessing choices (Steegen et al.
2016), to ask whether its conclusion holds.

``forks`` plans it from the config (the forks, their options, the universes; planning only: the workflow builds its
DAG with it); ``signal`` holds the choices the main analysis does not have (moving RMS, baseline subtraction and
z-scores, the range rule); ``participant`` computes every universe's window means for one participant, each
signal variant once.
"""
