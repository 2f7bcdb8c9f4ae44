"""Reporting evaluation records: the table of means per method and bucket, and the CSV file."""

from __future__ import annotations

import csv
import os

from gated_inpaint.evaluation.metrics import bucket_means
from gated_inpaint.evaluation.pairs import RECORD_FIELDS

# Column title and number format of each metric in the table.
TABLE_FORMATS = {
    "l1": ("L1", ".4f"),
    "l1_hole": ("L1 hole", ".4f"),
    "l2": ("L2", ".5f"),
    "l2_hole": ("L2 hole", ".5f"),
    "psnr": ("PSNR dB", ".2f"),
    "ssim": ("SSIM", ".4f"),
}


def write_csv(path: str, records: list[dict]) -> None:
    """Writes one row per record with the columns `RECORD_FIELDS` (floats exactly, as repr)."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, RECORD_FIELDS)
        writer.writeheader()
        writer.writerows(records)


def format_table(records: list[dict]) -> str:
    """The means per method over all records and by bucket, with counts, as aligned text."""
    header = ["method", "bucket", "images", *(title for title, _ in TABLE_FORMATS.values())]
    lines = [header]
    for method, groups in bucket_means(records).items():
        for group, (count, means) in groups.items():
            values = [
                format(means[name], spec) if count else "-"
                for name, (_, spec) in TABLE_FORMATS.items()
            ]
            label = group if group in ("all", "other") else f"{group} %"
            lines.append([method, label, str(count), *values])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )
