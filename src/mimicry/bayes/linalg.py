"""log det M and g' M^-1 g of a batch of small symmetric positive-definite matrices as one PyTensor Op with its
gradient, for the brms variant's marginal likelihood (one (2 x cells)-square system per participant).

Batched LAPACK through NumPy (numba runs it in object mode): PyTensor's own batched Cholesky and triangular
solve took numba 167 s to compile at 4 cells, the factor unrolled into scalar operations 457 s; this Op takes
about as long as the independent model. The gradient: d log det / dM = M^-1, d quad / dM = -x x',
d quad / dg = 2 x, with x = M^-1 g.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op


def log_det_and_quadratic(matrix: np.ndarray, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log det M and g' M^-1 g per batch element (NumPy)."""
    factor = np.linalg.cholesky(matrix)
    solved = np.linalg.solve(factor, vector[..., None])[..., 0]
    return 2.0 * np.sum(np.log(np.diagonal(factor, axis1=-2, axis2=-1)), axis=-1), np.sum(solved**2, axis=-1)


class InverseAndSolve(Op):
    """M^-1 and x = M^-1 g: the gradient's ingredients."""

    __props__ = ()

    def make_node(self, *inputs: Any) -> Apply:
        matrix, vector = (pt.as_tensor_variable(value) for value in inputs)
        return Apply(self, [matrix, vector], [matrix.type(), vector.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], outputs: Any) -> None:
        inverse = np.linalg.inv(inputs[0])
        outputs[0][0] = inverse
        outputs[1][0] = np.einsum("...ij,...j->...i", inverse, inputs[1])


class LogDetQuadratic(Op):
    """(log det M, g' M^-1 g), one value each per batch element."""

    __props__ = ()

    def make_node(self, *inputs: Any) -> Apply:
        matrix, vector = (pt.as_tensor_variable(value) for value in inputs)
        batch = pt.tensor(dtype=matrix.dtype, shape=(None,) * (vector.ndim - 1))
        return Apply(self, [matrix, vector], [batch, batch.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], outputs: Any) -> None:
        log_det, quadratic = log_det_and_quadratic(inputs[0], inputs[1])
        outputs[0][0], outputs[1][0] = np.asarray(log_det), np.asarray(quadratic)

    def pullback(self, inputs: Sequence[Any], outputs: Sequence[Any], cotangents: Sequence[Any]) -> list[Any]:
        inverse, solved = (pt.as_tensor_variable(output) for output in InverseAndSolve().make_node(*inputs).outputs)
        by_log_det, by_quadratic = (None if isinstance(c.type, DisconnectedType) else c for c in cotangents)
        d_matrix, d_vector = pt.zeros_like(inputs[0]), pt.zeros_like(inputs[1])
        if by_log_det is not None:
            d_matrix = d_matrix + by_log_det[..., None, None] * inverse
        if by_quadratic is not None:
            d_matrix = d_matrix - by_quadratic[..., None, None] * solved[..., :, None] * solved[..., None, :]
            d_vector = d_vector + 2.0 * by_quadratic[..., None] * solved
        return [d_matrix, d_vector]


log_det_quadratic = LogDetQuadratic()
