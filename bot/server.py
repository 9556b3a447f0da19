"""Start the Rasa server (in .venv-rasa) with two fixes of ours, then hand over to Rasa's command line.

    .venv-rasa/bin/python -m bot.server run --enable-api ...   (ops/rasa_server.sh does this)

Both were found by profiling the server under load (py-spy, 20 and 50 concurrent conversations, and
resident memory step by step through the model load; docs/measurements.md). Neither changes what Rasa answers;
tests/test_rasa_server.py checks that against Rasa's own code.

1. Action responses. Rasa checks every action server response with `jsonschema.validate(response,
   schema)`, which first checks the constant schema against the JSON Schema meta-schema and builds a
   new validator, on every response: 26 % of the server's CPU time under load. Here the schema is
   checked once and its validator kept; every response is still validated in full.
2. Loading a TensorFlow model (DIET, TED). Rasa builds the model's variables by one training step on an
   example, which traces the whole training graph with its gradients and creates the optimiser's
   state: for our DIET model +670 MB of resident memory and 30 s, none of it used by a server that only
   predicts. Here the variables are built by one prediction on the example instead, the trained weights
   are loaded into them, and the prediction graph is traced afresh with those weights.

And one for the timeouts to agree: Rasa waits 5 minutes for an action (its DEFAULT_REQUEST_TIMEOUT,
with no setting), while the gateway gives up on a turn after RASA_TIMEOUT_S (30 s) and sends the
message again later, so a slow action could run on after the gateway had given up, and its turn be
taken twice. Here Rasa waits RASA_ACTION_TIMEOUT_S (20 s) for an action; the gateway refuses to start
unless it waits longer than that, and the action server's backend calls stop within it.

And two for security. Rasa checks its token (--auth-token) on the HTTP API but not on the channels it
serves under /webhooks/ (in Rasa 3.6 the REST channel answers anyone who can reach the port), so here
every request must carry the token, which the gateway sends; and no request body may be larger than
MAX_BODY_BYTES, whether it gives its length or comes chunked (Sanic's REQUEST_MAX_SIZE is 100 MB).

And one for privacy: Rasa renders the tracebacks of the exceptions it logs with every frame's local
variables (structlog's default), and those hold slot values, so a citizen's name and phone reached the
log whenever Rasa logged an exception (found by the log scan in tests/test_hostile.py: a response
template error logged all slots). Here tracebacks are rendered without locals.
"""

from __future__ import annotations

import hmac
import inspect
import os
import sys
from typing import Any

import rasa.core.actions.action
import rasa.core.run
import rasa.utils.endpoints
import structlog
from jsonschema import ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.utils.tensorflow.models import RasaModel
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

# The gateway sends messages of at most 2,000 characters, slots and events; nothing near this.
MAX_BODY_BYTES = 1024 * 1024
_validator: Any = None
_rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]
_rasa_configure_app = rasa.core.run.configure_app


def response_validator() -> Any:
    """The validator of Rasa's action-response schema, its schema checked once."""
    global _validator
    if _validator is None:
        schema = RemoteAction.action_response_format_spec()
        kind = validators.validator_for(schema)
        kind.check_schema(schema)
        _validator = kind(schema)
    return _validator


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """What RemoteAction._validate_action_result does, without re-checking the constant schema."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        "Action endpoint is valid."
    )
    raise error


def load_for_prediction(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """RasaModel.load for a model that will only predict (fine-tuning goes to Rasa's own)."""
    if finetune_mode or predict_data_example is None:
        return _rasa_load(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
        )
    model = cls(*args, **kwargs)
    model.run_inference(predict_data_example)  # builds every variable prediction uses
    model.load_weights(model_file_name).expect_partial()  # the optimiser's state is not needed
    # what the first prediction computed and traced came from the untrained variables: start again
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    if hasattr(model, "all_labels_embed"):
        model.all_labels_embed = None
    model.run_inference(predict_data_example)
    return model


def action_timeout_s() -> float:
    """How long Rasa waits for the action server: RASA_ACTION_TIMEOUT_S, 20 s by default."""
    return float(os.environ.get("RASA_ACTION_TIMEOUT_S") or 20)


def configure_app(*args: Any, **kwargs: Any) -> Sanic:
    """Rasa's application, every route of it behind the token and the body limit."""
    token = inspect.signature(_rasa_configure_app).bind(*args, **kwargs).arguments.get("auth_token")
    if not token:
        raise SystemExit("the Rasa server must be started with --auth-token")
    app = _rasa_configure_app(*args, **kwargs)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.register_middleware(token_required(token), "request")
    return app


def token_required(token: str) -> Any:
    expected = token.encode()

    async def only_the_gateway(request: Request) -> HTTPResponse | None:
        provided = (request.args.get("token") or "").encode()
        if hmac.compare_digest(provided, expected):
            return None
        return response.json({"status": "failure", "reason": "NotAuthenticated"}, status=401)

    return only_the_gateway


def install() -> None:
    # Rasa's configure_structlog looks this processor up when it runs, after install().
    structlog.processors.dict_tracebacks = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
    )
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    RasaModel.load = classmethod(load_for_prediction)  # type: ignore[assignment]
    # both are read when an action is called: the request's timeout, and its client session's
    rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT = action_timeout_s()  # type: ignore[attr-defined]
    rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT = action_timeout_s()  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
