"""The intent as two classifiers see it together (no Rasa import here: tested in the main env).

DIET (a small transformer over the message's features) and a linear model (logistic regression over
the same features' bag of words and character n-grams) make different mistakes: on one
cross-validation fold of the training data their weighted mean was right more often than either
(the weight in config.yml; the figures in docs/measurements.md). The linear model is kept as plain
arrays, so a model file holds no pickle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix


def probabilities(
    features: csr_matrix, weights: NDArray[np.float64], bias: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The logistic model's class probabilities, one row per message. With two classes scikit-learn
    keeps one row of weights, for the second class against the first (a score of 0)."""
    scores = np.asarray(features @ weights.T) + bias
    if weights.shape[0] == 1:
        scores = np.hstack([np.zeros_like(scores), scores])
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def blended(
    learned: Mapping[str, float], linear: Mapping[str, float], linear_weight: float
) -> list[tuple[str, float]]:
    """Each intent's weighted mean confidence, highest first (an intent one side lacks counts 0 there)."""
    if not 0.0 <= linear_weight <= 1.0:
        raise ValueError(f"linear_weight must be between 0 and 1, not {linear_weight}")
    names: Sequence[str] = sorted(set(learned) | set(linear))
    mean = {
        name: linear_weight * linear.get(name, 0.0) + (1.0 - linear_weight) * learned.get(name, 0.0)
        for name in names
    }
    return sorted(mean.items(), key=lambda item: (-item[1], item[0]))
