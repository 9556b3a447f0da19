"""Custom actions of the Jiesu assistant, served by rasa-sdk (`python -m bot.actions`).

One module per capability; every action is thin: read slots, call one method of the typed backend
client, return events and responses. Nothing is built at import time.
"""
