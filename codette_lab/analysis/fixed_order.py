"""Sums of products added in a fixed order, so a metric comes out the same bit for bit in every process.

numpy's ``@`` hands float arrays to BLAS (OpenBLAS in numpy's wheels), which
splits a product over as many threads as the process allows and adds the
partial sums in an order that depends on that count: the same spectrogram gave
spectral centroids that differed in the 9th digit between a notebook kernel with
two BLAS threads and a command line holding one (matrix-vector and matrix-matrix
products alike). numpy's own loops (``einsum`` without ``optimize``, ufunc
reductions) never call BLAS and never split a sum between threads, so every
product whose result reaches a metric goes through this module instead. The
band sums here are cheaper than the products they replace and a weighted row
sum dearer; a whole measurement costs what it did (``benchmarks/bench_analysis.py``).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np


def row_products(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``matrix @ weights`` for a (rows, n) matrix and (n,) weights: one weighted sum per row."""
    return np.einsum("ij,j->i", matrix, weights)


def column_products(weights: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``weights @ matrix`` for (rows,) weights and a (rows, n) matrix: one weighted sum per column."""
    return np.einsum("i,ij->j", weights, matrix)


def row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The dot product of each row of ``a`` with the same row of ``b`` (two (rows, n) arrays)."""
    return np.einsum("ij,ij->i", a, b)


def matrix_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a (rows, n) and an (n, k) matrix, each entry summed in a fixed order."""
    return np.einsum("ij,jk->ik", a, b)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``float(a @ b)`` for two 1-D arrays."""
    return float(np.einsum("i,i->", a, b))


class ContiguousBands:
    """Sums over bands of adjacent bins, each band a run of bins, the runs in order and not overlapping.

    Built from a (bins, bands) 0/1 membership matrix; ``sums(power)`` is ``power @ matrix`` for a
    (frames, bins) or (bins,) array, as one ``np.add.reduceat`` over the bins.
    """

    def __init__(self, membership: np.ndarray) -> None:
        runs: list[tuple[int, int]] = []
        for column in np.asarray(membership, dtype=bool).T:
            inside = np.flatnonzero(column)
            start, stop = (int(inside[0]), int(inside[-1]) + 1) if len(inside) else (0, 0)
            if len(inside) != stop - start:
                raise ValueError("ContiguousBands: a band's bins must be adjacent")
            runs.append((start, stop))
        filled = [run for run in runs if run[1] > run[0]]
        if any(before[1] > after[0] for before, after in pairwise(filled)):
            raise ValueError("ContiguousBands: bands must be in order and must not overlap")
        self.bins = len(membership)
        self.runs = tuple(runs)
        #: Band starts and stops interleaved (the last stop left out when it is the end of the array).
        edges = [edge for run in filled for edge in run]
        if edges and edges[-1] == self.bins:
            edges.pop()
        self._edges = np.array(edges, dtype=np.intp)
        #: Where each non-empty band's sum lands in reduceat's output (every other slot: the gaps between).
        self._slots = np.array([2 * index for index in range(len(filled))], dtype=np.intp)
        self._filled = np.array([index for index, run in enumerate(runs) if run[1] > run[0]], dtype=np.intp)

    def sums(self, power: np.ndarray) -> np.ndarray:
        """(…, bands) sums of ``power`` (…, bins) over each band's bins (0 for an empty band)."""
        out = np.zeros((*power.shape[:-1], len(self.runs)), dtype=power.dtype)
        if len(self._filled):
            totals = np.add.reduceat(power, self._edges, axis=-1)
            out[..., self._filled] = totals[..., self._slots]
        return out
