"""Reporting an appeal: the case form's validation, the read-back, corrections, submission, cancel."""

from __future__ import annotations

import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.addresses import correction_value, merge_address
from bot.actions.appeal_words import (
    APPEAL_LABELS,
    FIELD_WORDS,
    FILES_OFFER,
    appeal_type,
    field_named,
    is_bare_intention,
    named_type,
    only_a_place,
    said_name,
)
from bot.actions.backend_client import (
    BackendClient,
    BackendError,
    BackendUnavailable,
    Conflict,
    CreatedCase,
    NewCase,
    Routing,
)
from bot.actions.tracker_reading import (
    NOT_GIVEN,
    NOT_YET,
    attachments,
    beijing_time,
    channel,
    channel_identity,
    entity,
    latest_intent,
    latest_text,
    location,
    refuses,
    shown_phone,
)
from common.phone import find_phone, strip_phones

REPORT_SLOTS = (
    "description",
    "address",
    "confidential",
    "appeal_type",
    "category_code",
    "category_name",
    "unit_name",
    "district",
    "street",
    "time_limit_label",
    "routing",
    "submission_key",
    "attachments",
    "location",
)
REPORT_INTENTS = frozenset({"report_issue", "suggest", "praise"})  # each starts the report form
SHOWN_CHARS = 120  # a longer description is read back shortened (the case keeps it whole)


def reset_report() -> list[EventType]:
    return [SlotSet(name, None) for name in REPORT_SLOTS] + [SlotSet("address_attempts", 0)]


class ValidateCaseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_case_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Ask whether to keep the reporter confidential only for a report (举报), and where only when it
        is not a consultation (a question about a policy has no place)."""
        kind = tracker.get_slot("appeal_type")
        skipped = {"confidential"} if kind != "report" else set()
        if kind == "consultation" and not tracker.get_slot("address"):
            skipped.add("address")
        return [slot for slot in domain_slots if slot not in skipped]

    async def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The message that starts a report is its description, also when it breaks into checking or
        rating a case (the domain maps it only when no form is active; Rasa allows no condition on a
        form the slot is not part of)."""
        if tracker.get_slot("description") or latest_intent(tracker) not in REPORT_INTENTS:
            return {}
        text = str(tracker.latest_message.get("text") or "").strip()
        return {"description": text} if text else {}

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if text.startswith("/"):  # a button pressed (the web chat's 报事): the citizen has not said it yet
            return {"description": None}
        kind = tracker.get_slot("appeal_type")
        slots: dict[str, Any] = {}
        if len(text) < 4 or is_bare_intention(text):
            # "帮我登记", "投诉": the appeal offered before, in the citizen's words, of the type named now
            offered = tracker.get_slot("offered_appeal")
            if not offered or not FILES_OFFER.search(text):
                return {"description": None}
            kind = named_type(text) or tracker.get_slot("offered_type")
            text = str(offered)
            slots.update(offered_appeal=None, offered_type=None)
        slots.update(description=text[:2000], appeal_type=kind or appeal_type(latest_intent(tracker), text))
        phone = find_phone(text, bare_local=False)
        if phone and not tracker.get_slot("contact_phone"):
            slots["contact_phone"] = phone.stored
        routing = Routing.kept_for(tracker.get_slot("offered_routing"), text)
        if routing is not None:  # the offered words, routed when they were offered: once is enough
            slots["offered_routing"] = None
        if routing is None or tracker.get_slot("address"):
            async with BackendClient.from_settings() as backend:
                try:
                    routing = await backend.route(text, tracker.get_slot("address"))
                except BackendError:
                    return slots  # the backend routes it again at acceptance
        slots.update(
            category_code=routing.category_code,
            category_name=routing.category_name,
            unit_name=routing.unit_name,
            time_limit_label=routing.time_limit_label,
            routing=routing.carried(),
        )
        if routing.district and not tracker.get_slot("address"):
            slots.update(
                address=f"{routing.district}{routing.street or ''}",
                district=routing.district,
                street=routing.street,
            )
        if routing.emergency:
            danger, call = routing.emergency["label"], routing.emergency["call"]
            dispatcher.utter_message(response="utter_danger_call_first", danger=danger, call=call)
        return slots

    async def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        asked = tracker.get_slot("requested_slot") == "address"
        if asked and latest_intent(tracker) != "correct_info":
            text = latest_text(tracker) or text  # asked for the place: the whole answer is the place
        if not asked and (refuses(text) or len(text) < 2):
            return {"address": None}
        if refuses(text) or len(text) < 2:
            dispatcher.utter_message(response="utter_address_needed")
            return {"address": None}
        description = tracker.get_slot("description") or text
        try:
            async with BackendClient.from_settings() as backend:
                routing = await backend.route(description, text)
        except BackendError:
            return {"address": text[:300]}
        if routing.district:
            return {
                "address": text[:300],
                "district": routing.district,
                "street": routing.street,
                "unit_name": routing.unit_name,
                "time_limit_label": routing.time_limit_label,
                "routing": routing.carried(),  # with the place: the case takes this one
            }
        if not asked:  # a place the NLU found in the description, not in any district: the form asks
            return {"address": None}
        attempts = int(tracker.get_slot("address_attempts") or 0) + 1
        if attempts >= 2:
            dispatcher.utter_message(response="utter_address_kept")
            return {"address": text[:300], "address_attempts": attempts, "routing": routing.carried()}
        dispatcher.utter_message(response="utter_address_no_district")
        return {"address": None, "address_attempts": attempts}

    async def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        named = entity(tracker, "person_name")
        text = str(named or value or "").strip()
        if refuses(text):
            return {"contact_name": NOT_GIVEN}
        place = entity(tracker, "address")
        if named is None and only_a_place(text, place):
            # a place is no name: the address mapping took it, and the name is asked again
            dispatcher.utter_message(response="utter_name_unclear")
            return {"contact_name": None}
        phone = find_phone(text)
        if phone:  # "王女士 13912345678": the name said with the phone, as the question invites
            name = said_name(strip_phones(text))
            return {
                "contact_name": name if name and not refuses(name) else None,
                "contact_phone": phone.stored,
            }
        name = said_name(text)
        if name is None:
            dispatcher.utter_message(response="utter_name_unclear")
            return {"contact_name": None}
        return {"contact_name": name}

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        phone = find_phone(text)
        if phone:
            return {"contact_phone": phone.stored}
        if refuses(text):
            dispatcher.utter_message(response="utter_anonymous")
            return {"contact_phone": NOT_GIVEN, "contact_name": NOT_GIVEN}
        dispatcher.utter_message(response="utter_phone_invalid")
        return {"contact_phone": None}


class ActionSummarizeCase(Action):
    def name(self) -> str:
        return "action_summarize_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slot = tracker.get_slot
        place = "".join(p for p in (slot("district"), slot("street")) if p)
        address = slot("address") or NOT_YET
        if place and place not in address:
            address = f"{address}（{place}）"
        dispatcher.utter_message(
            response="utter_case_summary_confidential" if slot("confidential") else "utter_case_summary",
            type=APPEAL_LABELS.get(slot("appeal_type") or "", APPEAL_LABELS["complaint"]),
            shown_description=shown_description(slot("description") or ""),
            place=address,
            name=slot("contact_name") or NOT_GIVEN,
            phone=shown_phone(slot("contact_phone")),
            category=slot("category_name") or NOT_YET,
            unit=slot("unit_name") or NOT_YET,
            limit=slot("time_limit_label") or NOT_YET,
        )
        return [SlotSet("submission_key", slot("submission_key") or uuid.uuid4().hex)]


def shown_description(text: str) -> str:
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]}…（共{len(text)}字，全文都会提交）"


class ActionSubmitCase(Action):
    def name(self) -> str:
        return "action_submit_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not tracker.get_slot("description") or not tracker.get_slot("submission_key"):
            dispatcher.utter_message(response="utter_nothing_to_submit")
            return []
        key = f"{channel_identity(tracker)}:{tracker.get_slot('submission_key')}"
        try:
            async with BackendClient.from_settings() as backend:
                created = await backend.create_case(new_case(tracker), idempotency_key=key)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_submit_failed")
            return [FollowupAction("action_summarize_case")]
        except Conflict:
            return await already_filed(dispatcher, key)
        except BackendError:
            dispatcher.utter_message(response="utter_case_invalid")
            return [FollowupAction("action_correct_case")]
        filed(dispatcher, created)
        return [*reset_report(), SlotSet("filed_case_number", created.number)]


def filed(dispatcher: CollectingDispatcher, created: CreatedCase) -> None:
    """Tell the citizen the case number, the unit and the time limit."""
    dispatcher.utter_message(
        response="utter_case_filed" if created.unit_name else "utter_case_filed_unit_pending",
        number=created.number,
        unit=created.unit_name or "",
        time_limit=created.time_limit_label,
        due=beijing_time(created.due_at),
    )


async def already_filed(dispatcher: CollectingDispatcher, key: str) -> list[EventType]:
    """The submission timed out but was saved, and the citizen changed the report since: the backend
    refuses the key with other data (409). The saved case stands; say so instead of asking for
    corrections that would meet the same 409 again."""
    try:
        async with BackendClient.from_settings() as backend:
            created = await backend.submitted_case(idempotency_key=key)
    except BackendError:
        dispatcher.utter_message(response="utter_submit_failed")
        return [FollowupAction("action_summarize_case")]
    dispatcher.utter_message(response="utter_filed_earlier")
    filed(dispatcher, created)
    return [*reset_report(), SlotSet("filed_case_number", created.number)]


def new_case(tracker: Tracker) -> NewCase:
    """The case to file, from the form's slots and the message metadata."""
    slot = tracker.get_slot
    name, phone = slot("contact_name"), slot("contact_phone")
    anonymous = phone in (None, NOT_GIVEN)
    return NewCase(
        appeal_type=slot("appeal_type") or "complaint",
        routing=slot("routing"),
        description=slot("description"),
        address=slot("address"),
        contact_name=None if anonymous or name in (None, NOT_GIVEN) else name,
        contact_phone=None if anonymous else phone,
        anonymous=anonymous,
        confidential=bool(slot("confidential")) and slot("appeal_type") == "report",
        channel=channel(tracker),
        channel_identity=channel_identity(tracker),
        conversation_id=tracker.sender_id,
        attachments=attachments(tracker),
        pin=location(tracker),
    )


class ActionCorrectCase(Action):
    """Apply a correction and let the form check the changed field (it then reads everything back).

    When the field cannot be told from the words, ask which one (utter_ask_field_to_correct).
    """

    def name(self) -> str:
        return "action_correct_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        field = entity(tracker, "field") or field_named(text)
        if field not in FIELD_WORDS:
            return [FollowupAction("utter_ask_field_to_correct")]
        value = _new_value(tracker, field, text)
        if field == "address" and value:
            merged = merge_address(tracker.get_slot("address") or "", value)
            changed = [
                SlotSet("address", merged),
                SlotSet("district", None),
                SlotSet("street", None),
                SlotSet("address_attempts", 0),
            ]
        elif field == "contact_phone" and value and find_phone(value):
            changed = [SlotSet("contact_phone", str(find_phone(value)))]
        elif field == "contact_name" and value:
            changed = [SlotSet("contact_name", value[:12])]
        else:
            changed = [SlotSet(field, None)]  # the form asks for it again
        return [*changed, FollowupAction("case_form")]


def _new_value(tracker: Tracker, field: str, text: str) -> str | None:
    """The corrected value if the citizen already gave it ("地址不对，是四区"), else None."""
    by_entity = {"address": "address", "contact_phone": "phone_number", "contact_name": "person_name"}
    found = entity(tracker, by_entity[field]) if field in by_entity else None
    if found:
        return found
    if latest_intent(tracker) != "correct_info" or text.startswith("/"):
        return None
    value = correction_value(text)
    return value if value != text.strip() else None


class ActionCancelCase(Action):
    def name(self) -> str:
        return "action_cancel_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_cancelled")
        return [*reset_report(), SlotSet("requested_slot", None)]
