"""Asking a Lab's engine directly from a cell, with no socket: chat, analyze arrays, analyze files.

The answers are the ones a DAW would get (same engine, same live rules and
registries); only the network is left out, so a cell can explore quickly.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from ..analysis_types import AnalysisResult, analyze, answer_analyze
from ..chat import ChatReply
from ..engine import Engine
from ..protocol import AnalyzeRequest, AudioData, TrackData


class DirectCalls:
    """The Lab's direct calls (a base of :class:`~codette_lab.lab.Lab`, which provides ``engine``)."""

    engine: Engine

    def chat(
        self,
        message: str,
        *,
        perspective: str | None = None,
        daw_context: Mapping[str, Any] | None = None,
    ) -> ChatReply:
        """The answer a DAW would get to this chat, computed in this cell."""
        return self.engine.chat(message, perspective=perspective, daw_context=daw_context)

    def analyze(
        self,
        y: Any,
        sr: float,
        *,
        kind: str = "quality",
        track_type: str = "audio",
        track_name: str | None = None,
        **options: Any,
    ) -> AnalysisResult:
        """Analyze an array ((n,) mono or (channels, n)) with this Lab's rules and analysis types.

        The same as :func:`codette_lab.analyze`, but notebook-defined types and
        tuned rules apply; ``options`` (``target``, ``other``, ...) are passed on.
        """
        return analyze(
            y,
            sr,
            kind=kind,
            track_type=track_type,
            track_name=track_name,
            rules=self.engine.rules,
            analysis_types=self.engine.analysis_types,
            **options,
        )

    def analyze_file(
        self,
        path: str | PathLike[str],
        *,
        kind: str = "quality",
        track_type: str | None = None,
        track_name: str | None = None,
    ) -> AnalysisResult:
        """Analyze an audio file under the audio roots, exactly as a DAW's ``file_path`` request would be."""
        name = track_name or Path(path).stem
        request = AnalyzeRequest(
            track=TrackData(track_id=name, track_name=name, track_type=track_type),
            audio=AudioData(file_path=str(Path(path).resolve())),
            analysis_type=kind,
        )
        return answer_analyze(
            request,
            analysis_types=self.engine.analysis_types,
            rules=self.engine.rules,
            audio_roots=self.engine.audio_roots,
        )
