"""bot/server.py, our Rasa launcher: with its two fixes the server must understand and decide exactly as
Rasa's own code does. Each side loads the trained model in its own Rasa process and reads the same
messages; intents, entities and the dialogue policy's next-action scores must match."""

from __future__ import annotations

import json

from ops.stack import model_path
from tests.rasa_env import in_rasa_env

PROBE = """
import asyncio, json, sys
import bot.server
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ActionExecuted

if sys.argv[1] == "ours":
    bot.server.install()
agent = Agent.load(sys.argv[2])
ted = next(
    node._component for name, node in agent.processor.graph_runner._instantiated_nodes.items()
    if name.startswith("run_TEDPolicy")
)
texts = json.loads(sys.argv[3])

async def read():
    seen = []
    for n, text in enumerate(texts):
        parsed = await agent.parse_message(text)
        tracker = await agent.processor.log_message(UserMessage(text, sender_id=f"probe{n % 2}"))
        ted_scores = ted.predict_action_probabilities(tracker, agent.domain).probabilities
        seen.append({
            "intent": parsed["intent"]["name"],
            "confidence": round(parsed["intent"]["confidence"], 4),
            "entities": [[e["entity"], e["value"]] for e in parsed["entities"]],
            "next_action_scores": [round(p, 4) for p in ted_scores],
        })
        tracker.update(ActionExecuted("action_listen"))
        await agent.tracker_store.save(tracker)
    return seen

print(json.dumps(asyncio.run(read()), ensure_ascii=False))
"""

# Citizens' words, none from the training data: a report in one go, bits of a form, a status check,
# a question, an emergency, a request for a person, small talk.
TEXTS = [
    "在吗",
    "东城区和平里七区 垃圾站天天冒臭水 电话 139-1000-2233",
    "姓刘",
    "提交吧",
    "帮我看看2026112800034这个单子到哪了",
    "社保卡丢了去哪补办啊",
    "厨房煤气味好大 怎么办",
    "给我找个真人",
    "你们是不是机器人",
    "好嘞 谢了",
]


def read_with(which: str) -> list[dict[str, object]]:
    seen = in_rasa_env(PROBE, which, model_path(), json.dumps(TEXTS))
    assert isinstance(seen, list)
    return seen


def test_the_launcher_reads_messages_exactly_as_rasa_does() -> None:
    ours, rasas = read_with("ours"), read_with("rasa")
    assert len(ours) == len(TEXTS)
    assert ours == rasas
    assert {row["intent"] for row in ours} >= {"check_status", "request_human", "emergency"}
    assert ["phone_number", "139-1000-2233"] in ours[1]["entities"]
    assert all(row["next_action_scores"] for row in ours)


def test_the_rasa_launcher_validates_action_responses_as_rasa_does() -> None:
    """bot/server.py checks Rasa's response schema once instead of per response: every response must
    still get jsonschema's own verdict."""
    verdicts = in_rasa_env(
        """
import json, jsonschema
from rasa.core.actions.action import RemoteAction
from bot.server import validate_action_result
schema = RemoteAction.action_response_format_spec()
samples = [
    {"events": [{"event": "slot", "name": "filed_case_number", "value": "2026112800001"}],
     "responses": [{"text": "好"}]},
    {"events": [], "responses": []},
    {"events": [{"name": "filed_case_number"}]},
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": "filed_case_number", "value": 1}], "responses": ["plain text"]},
]
verdicts = []
for sample in samples:
    try:
        jsonschema.validate(sample, schema)
        rasa = True
    except jsonschema.ValidationError:
        rasa = False
    try:
        ours = validate_action_result(None, sample)
    except jsonschema.ValidationError:
        ours = False
    verdicts.append([rasa, ours])
print(json.dumps(verdicts))
"""
    )
    assert verdicts == [[True, True], [True, True], [False, False], [False, False], [False, False]]


LOCALS_PROBE = """
import io, json, logging, sys
from bot import server
server.install()
import structlog
from rasa.utils.log_utils import configure_structlog
buffer, real = io.StringIO(), sys.stdout
sys.stdout = buffer  # Rasa's logging writes to the stdout it finds when configured
configure_structlog(logging.INFO)
def fail(phone):
    raise KeyError("no such slot")
try:
    fail("13987654321")
except KeyError:
    structlog.get_logger().exception("probe.failed")
sys.stdout = real
out = buffer.getvalue()
print(json.dumps({"logged": "probe.failed" in out and "KeyError" in out, "phone": "13987654321" in out}))
"""


def test_rasa_logs_exceptions_without_local_variables() -> None:
    assert in_rasa_env(LOCALS_PROBE) == {"logged": True, "phone": False}


TIMEOUT_PROBE = """
import asyncio, json, os, socket, sys, time
os.environ["RASA_ACTION_TIMEOUT_S"] = "1"
from bot import server
if sys.argv[1] == "ours":
    server.install()
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

silent = socket.socket()  # takes the connection and never answers: an action server that hangs
silent.bind(("127.0.0.1", 0))
silent.listen()
endpoint = EndpointConfig(f"http://127.0.0.1:{silent.getsockname()[1]}/webhook")

async def run():
    start = time.monotonic()
    nlg, tracker = TemplatedNaturalLanguageGenerator({}), DialogueStateTracker("p", [])
    action = RemoteAction("action_submit_case", endpoint)
    call = action.run(CollectingOutputChannel(), nlg, tracker, Domain.empty())
    try:
        await asyncio.wait_for(call, 8)
    except asyncio.TimeoutError:
        pass
    return round(time.monotonic() - start, 1)

waited = asyncio.run(run())
del os.environ["RASA_ACTION_TIMEOUT_S"]
print(json.dumps({"waited": waited, "default": server.action_timeout_s()}))
"""


def test_rasa_waits_for_an_action_as_long_as_rasa_action_timeout_s_says() -> None:
    """Rasa's own wait for an action (5 minutes, no setting) outlasted the gateway's wait for the turn
    (RASA_TIMEOUT_S, 30 s); the launcher makes it RASA_ACTION_TIMEOUT_S (1 s in this probe), by default
    what the gateway and the action server take it to be."""
    from bot.actions.settings import ActionSettings
    from connectors.settings import GatewaySettings

    probed = in_rasa_env(TIMEOUT_PROBE, "ours")
    assert isinstance(probed, dict) and probed["waited"] < 4
    assert probed["default"] == GatewaySettings.model_fields["rasa_action_timeout_s"].default
    assert probed["default"] == ActionSettings.model_fields["rasa_action_timeout_s"].default
