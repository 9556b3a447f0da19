"""Training progress: the lines of a real `rasa train` run (models/train.log) read into a few lines."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from ops.progress import TrainingProgress, split_output, tqdm_seconds
from ops.train import follow

# Copied from a real models/train.log of this project (DIET at 11 epochs, TED at 60, a busy machine),
# with its \r-separated tqdm redraws and its colour codes; lines in between left out.
RASA_OUTPUT = (
    "2026-12-06 03:15:41 INFO     rasa.engine.training.hooks  - "
    "Starting to train component 'DIETClassifier'.\n"
    "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: the tokenizer gives an unexpected result\n\x1b[0m"
    "Epochs:   0%|          | 0/11 [00:00<?, ?it/s]\r"
    "Epochs:   9%|▉         | 1/11 [05:42<57:00, 342.01s/it]\r"
    "Epochs:   9%|▉         | 1/11 [05:42<57:00, 342.01s/it, t_loss=6.78, i_acc=0.742, e_f1=0.303]\r"
    "Epochs:  18%|█▊        | 2/11 [07:12<29:07, 194.19s/it, t_loss=6.78, i_acc=0.742, e_f1=0.303]\r"
    "Epochs:  18%|█▊        | 2/11 [07:12<29:07, 194.19s/it, t_loss=6.53, i_acc=0.941, e_f1=0.747]\r"
    "Epochs:  27%|██▋       | 3/11 [09:23<22:02, 165.26s/it, t_loss=6.53, i_acc=0.941, e_f1=0.747]\r"
    "Epochs:  27%|██▋       | 3/11 [09:23<22:02, 165.26s/it, t_loss=7.16, i_acc=0.97, e_f1=0.833] \r"
    "Epochs: 100%|██████████| 11/11 [22:10<00:00, 120.95s/it, t_loss=7.13, i_acc=0.99, e_f1=0.96]\n"
    "2026-12-06 03:39:56 INFO     rasa.engine.training.hooks  - "
    "Finished training component 'DIETClassifier'.\n"
    "2026-12-06 03:40:13 INFO     rasa.engine.training.hooks  - Restored component 'RulePolicy' from cache.\n"
    "2026-12-06 03:44:37 INFO     rasa.engine.training.hooks  - Starting to train component 'TEDPolicy'.\n"
    "Epochs:  92%|█████████▏| 55/60 [01:52<00:04,  1.03it/s, t_loss=4.34, loss=4.17, acc=0.36] \r"
    "Epochs:  93%|█████████▎| 56/60 [01:52<00:03,  1.17it/s, t_loss=4.34, loss=4.17, acc=0.36]\r"
    "Epochs:  98%|█████████▊| 59/60 [01:55<00:00,  1.34it/s, t_loss=4.29, loss=4.12, acc=0.377]\r"
    "Epochs: 100%|██████████| 60/60 [01:55<00:00,  1.51it/s, t_loss=4.28, loss=4.11, acc=0.345]\r"
    "Epochs: 100%|██████████| 60/60 [01:55<00:00,  1.51it/s, t_loss=4.28, loss=4.11, acc=0.379]\r"
    "Epochs: 100%|██████████| 60/60 [01:55<00:00,  1.93s/it, t_loss=4.28, loss=4.11, acc=0.379]\n"
    "2026-12-06 03:46:43 INFO     rasa.engine.training.hooks  - Finished training component 'TEDPolicy'.\n"
    "\x1b[92mYour Rasa model is trained and saved at '/x/models/jiesu-047f00955a4d3671.tar.gz'.\x1b[0m\n"
)


def read_all(output: str, seconds_per_line: float = 1.0) -> list[str]:
    progress, shown = TrainingProgress(), []
    lines, rest = split_output("", output)
    assert rest == ""
    for number, line in enumerate(lines):
        if said := progress.feed(line, number * seconds_per_line):
            shown.append(said)
    return shown


def test_each_epoch_of_diet_shows_once_with_time_so_far_and_tqdms_estimate() -> None:
    shown = read_all(RASA_OUTPUT)
    diet = [line for line in shown if "DIETClassifier: epoch" in line]
    assert [line.split("] ", 1)[1] for line in diet] == [
        "DIETClassifier: epoch 1/11, 5:42 so far, about 57:00 to go",
        "DIETClassifier: epoch 2/11, 7:12 so far, about 29:07 to go",
        "DIETClassifier: epoch 3/11, 9:23 so far, about 22:02 to go",
        "DIETClassifier: epoch 11/11, 22:10 so far",
    ]


def test_components_say_when_trained_or_restored_and_a_long_bar_is_thinned() -> None:
    shown = read_all(RASA_OUTPUT)
    assert any(line.endswith("DIETClassifier trained in 0:10") for line in shown), shown
    assert any(line.endswith("RulePolicy taken from Rasa's cache") for line in shown)
    ted = [line for line in shown if "TEDPolicy: epoch" in line]
    # 60 epochs show every 6th: 56 and 59 are skipped, 60 shows once however often tqdm redraws it
    assert [line.split(": ", 1)[1].split(",")[0] for line in ted] == ["epoch 60/60"]
    assert shown[-1].endswith("model saved")
    assert not any("UserWarning" in line for line in shown)


def test_elapsed_time_since_training_began_leads_every_line() -> None:
    shown = read_all(RASA_OUTPUT, seconds_per_line=30)
    assert shown[0].startswith("[1:30] DIETClassifier: epoch 1/11")  # the 4th line
    assert tqdm_seconds("1:02:03") == 3723 and tqdm_seconds("?") is None


def test_a_line_cut_between_two_reads_is_read_whole() -> None:
    cut = RASA_OUTPUT.index("Starting to train component 'TEDPolicy'") + 20
    first, rest = split_output("", RASA_OUTPUT[:cut])
    second, rest = split_output(rest, RASA_OUTPUT[cut:])
    assert first + second == split_output("", RASA_OUTPUT)[0]


def test_follow_copies_every_byte_to_the_log_and_prints_progress(tmp_path: Path) -> None:
    """The pipe from a real process (chunks of any size), as ops/train.py reads `rasa train`."""
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write(RASA_OUTPUT.encode())
    writer.stdin.close()
    log, said = io.BytesIO(), io.StringIO()
    stderr, sys.stderr = sys.stderr, said
    try:
        follow(writer.stdout, log, started=0.0)
    finally:
        sys.stderr = stderr
    writer.wait()
    assert log.getvalue() == RASA_OUTPUT.encode()
    assert "DIETClassifier: epoch 3/11" in said.getvalue()


def test_minutes_of_silence_are_filled_with_what_rasa_is_still_doing() -> None:
    progress = TrainingProgress()
    assert progress.heartbeat(30) is None
    assert progress.heartbeat(61) == "[1:01] still starting Rasa ..."
    validating = (
        "2026-12-06 05:24:14 INFO     rasa.cli.train  - Started validating domain and training data..."
    )
    assert progress.feed(validating, 70) == "[1:10] checking the domain and training data"
    assert progress.heartbeat(100) is None  # said something 30 s ago
    checked = "2026-12-06 05:26:39 INFO     rasa.validator  - No story structure conflicts found."
    assert progress.feed(checked, 215) == "[3:35] training data checked; reading it"
    assert progress.heartbeat(280) == "[4:40] still reading the training data ..."
    progress.feed(RASA_OUTPUT.splitlines()[0], 300)  # DIET starts
    assert progress.heartbeat(400) == "[6:40] still training DIETClassifier ..."
