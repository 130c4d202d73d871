"""The same analyze requests answered by each way the project answers them, for tests/test_identical_answers.py.

Imported by the test for the requests and the client side; run as a script
(``python tests/answer_legs.py MODE``) in a process whose BLAS threads the
test sets (``OPENBLAS_NUM_THREADS``), it measures there and prints JSON:

- ``in-process``: the answers of an :class:`~codette_lab.engine.Engine` called
  directly, and of a Lab serving in this process (as in a notebook kernel)
  asked over its WebSocket, with this process's BLAS thread counts;
- ``corpus``: ``corpus.analyze`` of the demo stems (``quality``) on the local
  cluster it starts, whose workers take this process's BLAS variables.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from codette_lab.daw import Session, SimulatedDAW
from codette_lab.daw.payloads import AUDIO_PAYLOADS

#: (track, analysis type, how the audio is sent, other track) of every request.
REQUESTS = (
    ("Lead Vocal", "quality", "path", None),
    ("Drums", "quality", "path", None),
    ("Bass", "quality", "path", None),
    ("Keys", "quality", "path", None),
    ("Lead Vocal", "masking", "path", "Keys"),
    ("Drums", "masking", "path", "Bass"),
    ("Keys", "spectrum", "samples", None),  # a large frame: parsed in the server's child processes
)


#: How long a reply may take: the legs run side by side on a machine that may be busy (a wait, not a check).
REPLY_TIMEOUT_S = 180.0


def frames() -> list[dict[str, Any]]:
    """The analyze requests of :data:`REQUESTS` on the demo session."""
    session = Session.load()
    built = []
    for name, analysis_type, send, other in REQUESTS:
        track, payload = session.track(name), AUDIO_PAYLOADS[send]
        frame: dict[str, Any] = {
            "type": "analyze",
            "track_data": track.track_data(),
            "audio_data": payload(track, None),
            "analysis_type": analysis_type,
        }
        if other is not None:
            second = session.track(other)
            frame["other_track"] = {"track_data": second.track_data(), "audio_data": payload(second, None)}
        built.append(frame)
    return built


def ask(url: str, requests: list[dict[str, Any]]) -> list[str]:
    """Each request's analysis object, as the JSON text the server sent (so -0.0 and 0.0 differ)."""
    daw = SimulatedDAW(url, name="identical answers", timeout=REPLY_TIMEOUT_S)
    daw.connect()
    try:
        replies = [daw.request(request) for request in requests]
    finally:
        daw.close()
    assert all(reply["type"] == "analysis_response" for reply in replies), replies
    return [json.dumps(reply["analysis"]) for reply in replies]


def blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return sorted({info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"})


def in_process() -> dict[str, Any]:
    from codette_lab import Lab
    from codette_lab.engine import Engine

    requests = frames()
    engine = Engine()
    direct = [json.dumps(engine.respond(json.dumps(request))["analysis"]) for request in requests]
    lab = Lab(port=0)
    lab.start()
    try:
        served = ask(lab.url, requests)
    finally:
        lab.stop()
    return {"engine": direct, "lab": served, "blas_threads": blas_threads()}


def corpus() -> dict[str, Any]:
    from pathlib import Path

    from codette_lab.corpus import analyze

    session = Session.load()
    stems = {str(track.file): track.track_type for track in session.tracks}
    table = analyze(list(stems), kinds=["quality"], track_type=lambda path: stems[str(Path(path))], progress=False)
    rows = table.drop(columns=["findings", "problems", "suggestions"]).to_dict(orient="records")
    return {"rows": {row["path"]: row for row in rows}, "blas_threads": blas_threads()}


if __name__ == "__main__":
    legs = {"in-process": in_process, "corpus": corpus}
    print(json.dumps(legs[sys.argv[1]](), default=repr))
