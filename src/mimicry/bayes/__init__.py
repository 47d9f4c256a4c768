"""The paper's Bayesian asymptotic regression (Korb et al. 2023), one concern per module:

- :mod:`~mimicry.bayes.model`        the curve, the model data, the joint Bambi and PyMC (brms-faithful) models
- :mod:`~mimicry.bayes.marginal`     a and b's participant effects integrated out; sufficient statistics
- :mod:`~mimicry.bayes.sampling`     fit a nested model, the posterior in one layout, netCDF files
- :mod:`~mimicry.bayes.diagnostics`  summaries and the convergence gate
- :mod:`~mimicry.bayes.compare`      WAIC, PSIS-LOO and leave-one-participant-out; Table 2
- :mod:`~mimicry.bayes.contrasts`    each drug against the reference group
- :mod:`~mimicry.bayes.predictive`   the prior predictive check and the curves of Figure 2
"""
