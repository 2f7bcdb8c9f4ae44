"""Image files of a training source: a folder (searched recursively) or an official-style
`.flist` file, and the precomputed edge maps beside them (`<stem>_edge.png|jpg`)."""

from __future__ import annotations

import os

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
EDGE_SUFFIX = "_edge"
EDGE_EXTENSIONS = (".png", ".jpg")
FLIST_EXISTENCE_PROBE = 64  # entries of a file list checked to exist up front


def is_image_name(name: str) -> bool:
    stem, ext = os.path.splitext(name)
    return ext.lower() in IMAGE_EXTENSIONS and not stem.endswith(EDGE_SUFFIX)


def read_flist(path: str) -> list[str]:
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    files = [
        os.path.normpath(os.path.join(folder, os.path.expanduser(line)))
        for line in lines
        if line and not os.path.splitext(os.path.basename(line))[0].endswith(EDGE_SUFFIX)
    ]
    if not files:
        raise ValueError(f"The file list {path!r} names no images.")
    probe = files[:FLIST_EXISTENCE_PROBE]
    if not any(os.path.exists(p) for p in probe):
        raise FileNotFoundError(
            f"None of the first {len(probe)} entries of the file list {path!r} exists "
            f"(first: {probe[0]!r}); relative entries are read relative to the list's folder."
        )
    return files


def list_images(source: str) -> list[str]:
    """Image paths of a folder (recursive, sorted) or of an official-style `.flist` file.

    Folder search keeps the extensions in `IMAGE_EXTENSIONS` (any case). A file list has one
    path per line, relative paths being relative to the list's folder, blank lines ignored.
    `*_edge.*` files are left out of both. Raises `FileNotFoundError` for a missing path and
    `ValueError` when no image is found; both messages name the path.
    """
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        found = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            found += [os.path.join(root, n) for n in sorted(names) if is_image_name(n)]
        if not found:
            raise ValueError(
                f"No images ({' '.join(IMAGE_EXTENSIONS)}) found under the folder {path!r}."
            )
        return found
    if os.path.isfile(path):
        if is_image_name(path):
            raise ValueError(f"{path!r} is an image: pass its folder or a .flist file instead.")
        return read_flist(path)
    raise FileNotFoundError(f"The image source {source!r} does not exist.")


def edge_file_for(image_path: str) -> str | None:
    """The precomputed edge map beside `image_path` (`<stem>_edge.png`, else `.jpg`), if any."""
    stem = os.path.splitext(image_path)[0]
    for ext in EDGE_EXTENSIONS:
        if os.path.isfile(stem + EDGE_SUFFIX + ext):
            return stem + EDGE_SUFFIX + ext
    return None
