"""The operators' console: queue and takeover of conversations, phone intake, cases, rates.

Served by the gateway (live conversations are here); cases are the backend's, reached with the
operator's own backend token, so the backend's roles and unit confinement apply unchanged.
"""
