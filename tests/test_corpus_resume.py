"""Corpus results on disk: written as they come, resumed after an interruption, and the ``corpus`` command."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from corpus_material import REPO, render_corpus
from distributed import Client

from codette_lab.cli import main
from codette_lab.corpus import analyze, read_results


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    render_corpus(folder)
    return folder


def stored_rows(out: Path) -> list[str]:
    """The path of every row in every part, oldest part first (a file analyzed twice would appear twice)."""
    return [path for part in sorted(out.glob("part-*.parquet")) for path in pq.read_table(part)["path"].to_pylist()]


def test_a_rerun_skips_files_done_and_redoes_changed_and_failed_ones(
    dask_client: Client, corpus: Path, tmp_path: Path
) -> None:
    files = sorted(corpus.rglob("*.flac"))
    mine = tmp_path / "mine"
    mine.mkdir()
    copies = []
    for path in files[:6]:
        copy = mine / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    broken = mine / "broken.wav"
    broken.write_bytes(b"not audio at all")
    out = tmp_path / "results.parquet"

    first = analyze(copies[:3], client=dask_client, out=out, progress=False)
    assert first["error"].isna().all() and len(stored_rows(out)) == 3

    table = analyze(mine, client=dask_client, out=out, progress=False)
    assert len(table) == 7 and table["error"].notna().sum() == 1
    assert sorted(stored_rows(out)[3:]) == sorted(str(path) for path in [*copies[3:], broken])

    copies[0].write_bytes(files[-1].read_bytes())  # a changed file (size and mtime)
    os.utime(copies[1], ns=(time.time_ns(), time.time_ns() + 10**9))  # a touched one (mtime only)
    again = analyze(mine, client=dask_client, out=out, progress=False)
    assert sorted(stored_rows(out)[-3:]) == sorted(str(path) for path in (copies[0], copies[1], broken))
    assert sorted(stored_rows(out)) == sorted(str(path) for path in mine.iterdir()), "their old rows are gone"
    assert again.set_index("path").loc[str(copies[0]), "peak_dbfs"] != first.loc[0, "peak_dbfs"]
    assert again.equals(read_results(out, paths=[str(path) for path in sorted(mine.iterdir())]))

    analyze(mine, client=dask_client, out=out, progress=False, rerun=True)
    assert sorted(stored_rows(out)) == sorted(str(path) for path in mine.iterdir())


def test_a_rerun_retries_failed_files_and_replaces_their_rows(
    dask_client: Client, corpus: Path, tmp_path: Path
) -> None:
    """One corrupt file is then fixed, one stays broken: after every run, one row per file on disk."""
    folder = tmp_path / "tracks"
    folder.mkdir()
    good = sorted(corpus.rglob("*.flac"))[:3]
    for path in good:
        (folder / path.name).write_bytes(path.read_bytes())
    fixed, broken = folder / "fixed.flac", folder / "broken.wav"
    fixed.write_bytes(b"fLaC but not really")
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt and then nothing")
    out = tmp_path / "results.parquet"
    every_file = sorted(str(path) for path in folder.iterdir())

    first = analyze(folder, client=dask_client, out=out, progress=False).set_index("path")
    assert first["error"].notna().sum() == 2 and "cannot read audio file" in first.loc[str(fixed), "error"]
    assert sorted(stored_rows(out)) == every_file

    fixed.write_bytes(good[0].read_bytes())
    second = analyze(folder, client=dask_client, out=out, progress=False).set_index("path")
    assert pd.isna(second.loc[str(fixed), "error"]) and second.loc[str(fixed), "peak_dbfs"] is not None
    assert "cannot read audio file" in second.loc[str(broken), "error"]
    assert sorted(stored_rows(out)) == every_file, "the fixed file's row replaced its failure"
    assert sorted(stored_rows(out)[-2:]) == sorted([str(fixed), str(broken)]), "only the failed files were redone"

    third = analyze(folder, client=dask_client, out=out, progress=False)
    assert sorted(stored_rows(out)) == every_file and stored_rows(out)[-1] == str(broken), "retried again"
    assert len(third) == len(every_file) and third["error"].notna().sum() == 1
    assert (pd.read_parquet(out)["path"].value_counts() == 1).all(), "any Parquet reader sees one row per file"


def test_an_interrupted_run_keeps_what_it_did_and_the_next_run_does_the_rest(
    dask_client: Client, corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.parquet"
    files = sorted(corpus.rglob("*.flac"))
    running = threading.Event()

    def interrupt_after_the_first_part() -> None:
        deadline = time.monotonic() + 60
        while running.is_set() and time.monotonic() < deadline:
            if any(out.glob("part-*.parquet")):
                _thread.interrupt_main()  # what Ctrl-C does to a notebook cell
                return
            time.sleep(0.002)

    running.set()
    watcher = threading.Thread(target=interrupt_after_the_first_part)
    watcher.start()
    with pytest.raises(KeyboardInterrupt):
        try:
            analyze(corpus, track_type="from-folder", client=dask_client, out=out, progress=False, part_rows=2)
        finally:
            running.clear()
            watcher.join()
    kept = stored_rows(out)
    assert 2 <= len(kept) < len(files), "interrupted after the first part, before the end"

    resumed = analyze(corpus, track_type="from-folder", client=dask_client, out=out, progress=False)
    assert len(resumed) == len(files) and resumed["error"].isna().all()
    assert sorted(stored_rows(out)[len(kept) :]) == sorted(set(map(str, files)) - set(kept)), "each file once"


def corpus_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codette_lab", "corpus", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_corpus_command_analyzes_a_folder_and_exits_0_only_when_every_file_was(
    dask_client: Client, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first run is the installed command in a process of its own; the others call its main()."""
    folder = tmp_path / "tracks"
    (folder / "vocal").mkdir(parents=True)
    for path in sorted((corpus / "vocal").glob("*.flac")):
        (folder / "vocal" / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "results.parquet"
    address = dask_client.scheduler.address

    done = corpus_command(str(folder), "--out", str(out), "--scheduler", address, "--track-type", "from-folder")
    assert done.returncode == 0, done.stderr
    assert "analyzing" in done.stderr and "3 of 3 files analyzed" in done.stderr
    table = read_results(out)
    assert list(table["track_type"]) == ["vocal"] * 3 and table["score.quality"].between(0, 1).all()

    (folder / "vocal" / "broken.flac").write_bytes(b"fLaC but not really")
    failed = main(["corpus", str(folder), "--out", str(out), "--scheduler", address, "--kinds", "dynamics", "loudness"])
    assert failed == 1
    assert f"failed: {folder / 'vocal' / 'broken.flac'}: cannot read audio file" in capsys.readouterr().err
    assert stored_rows(out)[3:] == [str(folder / "vocal" / "broken.flac")], "the rest was done already"

    bad_rules = tmp_path / "rules.json"
    bad_rules.write_text("{not json")
    assert main(["corpus", str(folder), "--out", str(out), "--rules", str(bad_rules)]) == 2
    assert str(bad_rules) in capsys.readouterr().err
    assert main(["corpus", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "no such path" in capsys.readouterr().err
    (tmp_path / "silent").mkdir()
    assert main(["corpus", str(tmp_path / "silent"), "--out", str(out)]) == 2
    assert "no audio files under" in capsys.readouterr().err
