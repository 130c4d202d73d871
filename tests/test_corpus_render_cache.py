"""The realistic corpus's render cache (data/corpus_real/<fingerprint>/): old versions' renders do not pile up.

Each change to the renderers gives a new fingerprint and about 500 MB of new renders; the folders of older
versions were never deleted (4.5 GB after ten of them). The first render of a new version deletes all but the
most recent older one, and never a folder holding anything the corpus did not write there.
"""

from __future__ import annotations

import os
from pathlib import Path

from corpus_material import project_script

sources = project_script("fault_real_sources")


def renders(root: Path, fingerprint: str, *, written: float, extra: str | None = None) -> Path:
    folder = root / fingerprint
    folder.mkdir()
    (folder / "gm-piano-44100-8s.npy").write_bytes(b"\x93NUMPY")
    if extra:
        (folder / extra).write_text("mine")
    os.utime(folder, (written, written))
    return folder


def test_a_new_version_keeps_its_renders_and_the_last_versions_and_deletes_older_ones(tmp_path: Path) -> None:
    current = renders(tmp_path, "c0ffee000001", written=4000.0)
    last = renders(tmp_path, "c0ffee000002", written=3000.0)
    older = renders(tmp_path, "c0ffee000003", written=2000.0)
    oldest = renders(tmp_path, "c0ffee000004", written=1000.0)
    deleted = sources.forget_old_renders(tmp_path, keep=current.name)
    assert sorted(deleted) == sorted([older, oldest])
    assert sorted(p.name for p in tmp_path.iterdir()) == [current.name, last.name]


def test_a_folder_holding_anything_else_is_never_deleted(tmp_path: Path) -> None:
    current = renders(tmp_path, "c0ffee000001", written=4000.0)
    renders(tmp_path, "c0ffee000002", written=3000.0)
    notes = renders(tmp_path, "c0ffee000003", written=2000.0, extra="notes.txt")
    other_name = tmp_path / "my-renders"
    other_name.mkdir()
    (other_name / "take1.npy").write_bytes(b"")
    assert sources.forget_old_renders(tmp_path, keep=current.name) == []
    assert (notes / "notes.txt").read_text() == "mine"
    assert (other_name / "take1.npy").exists()


def test_the_cache_is_named_by_the_renders_fingerprint() -> None:
    assert sources.CACHE == sources.RENDERS / sources.RENDERS_FINGERPRINT
    assert len(sources.RENDERS_FINGERPRINT) == 12
