"""Rasa graph components of our own (loaded by the Rasa server from config.yml)."""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, vstack
from sklearn.linear_model import LogisticRegression

from bot.nlu.blend import blended, probabilities
from bot.nlu.entities import clean
from bot.nlu.letters import as_appeal


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class NumbersByPattern(GraphComponent):
    """After the extractors: numbers come from the patterns, shape-only names count in answers only,
    split places are joined, spans are trimmed (bot/nlu/entities.py)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NumbersByPattern:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if entities:
                intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
                message.set(ENTITIES, clean(entities, message.get(TEXT) or "", intent), add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class BlendedIntent(GraphComponent):
    """After DIET: a logistic regression over the message's sentence features, trained with it, and
    the intent ranking becomes the weighted mean of both (bot/nlu/blend.py). The FallbackClassifier
    after it decides on the blended confidence."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "linear_weight": 0.7,
            "C": 10.0,
            "max_iter": 3000,
            "ranking_length": 10,
            "binary": True,
            "class_weight": "balanced",
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.intents: list[str] = []
        self.weights = np.zeros((0, 0))
        self.bias = np.zeros(0)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BlendedIntent:
        return cls(config, model_storage, resource)

    def features(self, messages: list[Message]) -> csr_matrix | None:
        """The sentence features of each message; with `binary`, whether a word or n-gram occurs,
        not how often (a repeated character says little about the intent)."""
        rows = []
        for message in messages:
            sentence = message.get_sparse_features(TEXT)[1]
            if sentence is None:
                return None
            rows.append(csr_matrix(sentence.features))
        if not rows:
            return None
        matrix = vstack(rows).tocsr()
        return matrix.sign() if self.config["binary"] else matrix

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        matrix = self.features(examples)
        if matrix is None:
            raise ValueError("BlendedIntent needs sparse sentence features: put a featurizer before it")
        model = LogisticRegression(
            C=self.config["C"], max_iter=self.config["max_iter"], class_weight=self.config["class_weight"]
        )
        model.fit(matrix, [m.get(INTENT) for m in examples])
        self.intents = [str(name) for name in model.classes_]
        self.weights, self.bias = model.coef_, model.intercept_
        with self._storage.write_to(self._resource) as folder:
            np.savez(
                folder / "linear.npz",
                intents=np.array(self.intents),
                weights=self.weights,
                bias=self.bias,
                binary=np.array(self.config["binary"]),
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BlendedIntent:
        component = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as folder:
            saved = np.load(folder / "linear.npz", allow_pickle=False)
            component.intents = [str(name) for name in saved["intents"]]
            component.weights, component.bias = saved["weights"], saved["bias"]
            # the features as the weights were trained on them (a model trained before the option: counts)
            component.config["binary"] = bool(saved["binary"]) if "binary" in saved else False
        return component

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            matrix = self.features([message]) if ranking and self.intents else None
            if matrix is None:
                continue  # no text features (an "/intent" command): DIET's answer stands
            linear = dict(
                zip(self.intents, probabilities(matrix, self.weights, self.bias)[0].tolist(), strict=True)
            )
            learned = {row[INTENT_NAME_KEY]: float(row[PREDICTED_CONFIDENCE_KEY]) for row in ranking}
            mean = blended(learned, linear, self.config["linear_weight"])
            ranked = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: value} for name, value in mean]
            message.set(INTENT, ranked[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranked[: self.config["ranking_length"]], add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ReadAsAppeal(GraphComponent):
    """After the intent classifiers, before the fallback: a letter, or a message that declares a
    complaint, is read as an appeal (bot/nlu/letters.py)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReadAsAppeal:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            ranking = message.get(INTENT_RANKING_KEY) or []
            if not ranking or text.startswith("/"):
                continue
            read = as_appeal(
                text, [(row[INTENT_NAME_KEY], float(row[PREDICTED_CONFIDENCE_KEY])) for row in ranking]
            )
            if read is None:
                continue
            ranked = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: value} for name, value in read]
            message.set(INTENT, ranked[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)
        return messages
