"""Code both environments import: the Rasa server's NLU components (Python 3.10, bot/nlu/) and the
action server (3.11+, bot/actions/). Plain Python only: nothing from rasa or rasa_sdk, nothing outside
the standard library (tests/bot/test_shared_words.py checks it in both environments). Training reads
it (ops/train.py hashes it with the training data).
"""
