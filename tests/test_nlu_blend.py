"""The blend of DIET's and the linear model's intent confidences (bot/nlu/blend.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from bot.nlu.blend import blended, probabilities
from tests.rasa_env import in_rasa_env


def test_probabilities_are_the_softmax_of_the_linear_scores() -> None:
    features = csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    weights = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    bias = np.array([0.0, 0.0, 1.0])
    found = probabilities(features, weights, bias)
    scores = np.array([[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]])
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert np.allclose(found, expected)
    assert np.allclose(found.sum(axis=1), 1.0)
    # large scores do not overflow
    assert np.allclose(probabilities(features * 1000, weights, bias).sum(axis=1), 1.0)


def test_two_classes_have_one_row_of_weights_for_the_second() -> None:
    found = probabilities(csr_matrix(np.array([[1.0], [0.0]])), np.array([[2.0]]), np.array([-2.0]))
    sigmoid = 1 / (1 + np.exp(-np.array([0.0, -2.0])))
    assert np.allclose(found[:, 1], sigmoid) and np.allclose(found.sum(axis=1), 1.0)


def test_the_blend_is_the_weighted_mean_highest_first() -> None:
    learned = {"report_issue": 0.6, "deny": 0.4}
    linear = {"report_issue": 0.1, "deny": 0.2, "emergency": 0.7}
    ranked = blended(learned, linear, 0.7)
    assert [name for name, _ in ranked] == ["emergency", "deny", "report_issue"]
    values = dict(ranked)
    assert values["emergency"] == pytest.approx(0.49)
    assert values["deny"] == pytest.approx(0.26)
    assert values["report_issue"] == pytest.approx(0.25)
    assert dict(blended(learned, linear, 0.0)) == pytest.approx({**learned, "emergency": 0.0})


def test_a_weight_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        blended({"greet": 1.0}, {"greet": 1.0}, 1.5)


BLEND_PROBE = r"""
import json, sys, tempfile
from pathlib import Path
import numpy as np
from scipy.sparse import csr_matrix
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu.components import BlendedIntent

def message(text, vector, intent=None):
    m = Message(data={"text": text, **({"intent": intent} if intent else {})})
    m.add_features(Features(csr_matrix(np.array([vector], dtype=float)), "sentence", "text", "probe"))
    return m

examples = [message(f"a{i}", [1, 0, i % 2], "greet") for i in range(6)]
examples += [message(f"b{i}", [0, 1, i % 2], "deny") for i in range(6)]
with tempfile.TemporaryDirectory() as folder:
    storage, resource = LocalModelStorage(Path(folder)), Resource("blend")
    config = {"linear_weight": 0.7}
    trained = BlendedIntent.create(config, storage, resource, None)
    trained.train(TrainingData(training_examples=examples))
    loaded = BlendedIntent.load(config, storage, resource, None)
    asked = message("?", [1, 0, 0])
    asked.set("intent_ranking", [{"name": "deny", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}])
    command = Message(data={"text": "/greet", "intent": {"name": "greet", "confidence": 1.0},
                            "intent_ranking": [{"name": "greet", "confidence": 1.0}]})
    loaded.process([asked, command])
    same = bool(np.array_equal(trained.weights, loaded.weights))
    print(json.dumps({"intent": asked.get("intent"), "ranking": asked.get("intent_ranking"),
                      "intents": loaded.intents, "same": same, "command": command.get("intent")}))
"""


def test_the_component_trains_saves_loads_and_blends_in_the_rasa_environment() -> None:
    seen = in_rasa_env(BLEND_PROBE)
    assert isinstance(seen, dict)
    assert seen["intents"] == ["deny", "greet"] and seen["same"] is True
    # DIET said deny at 0.9; the linear model, trained on clear examples, says greet: 0.7 of it wins.
    ranking = {row["name"]: row["confidence"] for row in seen["ranking"]}
    assert seen["intent"]["name"] == "greet" == seen["ranking"][0]["name"]
    assert sum(ranking.values()) == pytest.approx(1.0)
    assert ranking["deny"] == pytest.approx(0.3 * 0.9 + 0.7 * (1 - ranking_linear_greet(ranking)))
    # a message without text features (an "/intent" command) keeps what it had
    assert seen["command"] == {"name": "greet", "confidence": 1.0}


def ranking_linear_greet(ranking: dict[str, float]) -> float:
    """The linear model's confidence in greet, recovered from the blended greet (0.3 × 0.1 from DIET)."""
    return (ranking["greet"] - 0.3 * 0.1) / 0.7


BINARY_PROBE = r"""
import json, tempfile
from pathlib import Path
import numpy as np
from scipy.sparse import csr_matrix
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu.components import BlendedIntent

def message(text, vector, intent=None):
    m = Message(data={"text": text, **({"intent": intent} if intent else {})})
    m.add_features(Features(csr_matrix(np.array([vector], dtype=float)), "sentence", "text", "probe"))
    return m

def linear_greet(component, vector):
    asked = message("?", vector)
    asked.set("intent_ranking", [{"name": "deny", "confidence": 0.5}, {"name": "greet", "confidence": 0.5}])
    component.process([asked])
    return {row["name"]: row["confidence"] for row in asked.get("intent_ranking")}["greet"]

examples = [message(f"a{i}", [1, 0, i % 2], "greet") for i in range(6)]
examples += [message(f"b{i}", [0, 1, i % 2], "deny") for i in range(6)]
seen, stored = {}, {}
with tempfile.TemporaryDirectory() as folder:
    for binary in (True, False):
        (Path(folder) / str(binary)).mkdir()
        storage, resource = LocalModelStorage(Path(folder) / str(binary)), Resource("blend")
        stored[binary] = storage
        config = {"linear_weight": 1.0, "binary": binary}
        BlendedIntent.create(config, storage, resource, None).train(TrainingData(training_examples=examples))
        loaded = BlendedIntent.load({"linear_weight": 1.0}, storage, resource, None)
        once, often = linear_greet(loaded, [1, 0, 0]), linear_greet(loaded, [4, 0, 0])
        seen[str(binary)] = {"flag": loaded.config["binary"], "once": once, "often": often}
    # a model saved before the option existed: its weights were trained on counts
    storage = stored[True]
    with storage.write_to(resource) as saved:
        data = dict(np.load(saved / "linear.npz"))
        del data["binary"]
        np.savez(saved / "linear.npz", **data)
    seen["old"] = BlendedIntent.load({"linear_weight": 1.0}, storage, resource, None).config["binary"]
print(json.dumps(seen))
"""


def test_binary_features_count_a_word_once_and_the_model_remembers_how_it_was_trained() -> None:
    seen = in_rasa_env(BINARY_PROBE)
    assert isinstance(seen, dict)
    assert seen["True"]["flag"] is True and seen["False"]["flag"] is False
    # binary: a word seen four times weighs as much as seen once; counts: more is stronger
    assert seen["True"]["often"] == pytest.approx(seen["True"]["once"])
    assert seen["False"]["often"] > seen["False"]["once"] > 0.5
    assert seen["old"] is False
