"""Rasa graph components of our own (loaded by the Rasa server from config.yml)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import clean


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
