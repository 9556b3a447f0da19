"""Our own NLU components for the Rasa server (they run in the Rasa environment, imported by Rasa).
entities.py and blend.py import nothing from Rasa; the action server reads the rating words too."""
