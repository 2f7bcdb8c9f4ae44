"""`python bench/run.py --table FILE` prints the results file kept in the repository (written
before the bench recorded XLA training rows and first steps), as the README says it does."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = "bench/results_epyc_2core.json"


def test_the_kept_results_file_prints_with_its_training_rows():
    printed = subprocess.run(
        [sys.executable, "bench/run.py", "--table", RESULTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = printed[printed.index("training step") :].splitlines()[2:]
    train = json.loads((ROOT / RESULTS).read_text())["train"]
    assert train  # the file has training rows to print
    for row, result in zip(rows, train, strict=False):
        assert row.split()[:3] == [result["precision"], "no", f"{result['median_s']:.3f}"]
    assert "official TF1 graph: 7.85 s/step" in rows[len(train)]
