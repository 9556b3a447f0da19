"""Our own NLU components for the Rasa server (they run in the Rasa environment, imported by Rasa)."""
