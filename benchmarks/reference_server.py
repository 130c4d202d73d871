"""The reference for benchmarks/bench_server.py: the Codette protocol on FastAPI + uvicorn.

It stands for the original server's stack: a FastAPI WebSocket endpoint at
``/ws`` that sends the welcome, then answers ping / status / chat / analyze
with fixed, trivial replies (no engine work at all), and ``GET /health``.
Like the original it logs each connection and each received message type.

Run: ``python -m uvicorn --app-dir benchmarks reference_server:app --port 8001``
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

logger = logging.getLogger("reference_server")
app = FastAPI(title="Codette reference server")
connections: set[WebSocket] = set()


def now() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def answer(message: dict) -> dict:
    kind = message.get("type")
    if kind == "ping":
        return {"type": "pong", "timestamp": now()}
    if kind == "status":
        return {
            "type": "status_response",
            "status": "ok",
            "codette_available": True,
            "engine_type": "reference",
            "memory_size": 0,
            "active_connections": len(connections),
            "timestamp": now(),
        }
    if kind == "chat":
        return {
            "type": "chat_response",
            "response": "For mixing, start with gain staging.",
            "perspective": message.get("perspective") or "mix_engineering",
            "confidence": 0.85,
            "timestamp": now(),
        }
    if kind == "analyze":
        track = message.get("track_data") or {}
        return {
            "type": "analysis_response",
            "status": "success",
            "trackId": track.get("track_id"),
            "analysis": {
                "analysis_type": message.get("analysis_type", "spectrum"),
                "codette_insights": "Levels look reasonable.",
                "mixing_suggestions": ["Leave 6 dB of headroom"],
                "quality_score": 0.85,
            },
            "timestamp": now(),
        }
    return {"type": "error", "message": f"Unknown message type: {kind}", "timestamp": now()}


@app.get("/health")
async def health() -> dict:
    return {"status": "healthy", "service": "Codette reference server", "codette_available": True, "timestamp": now()}


@app.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    connections.add(websocket)
    connection_id = id(websocket)
    logger.info("WebSocket connected: %s (total: %s)", connection_id, len(connections))
    try:
        await websocket.send_json(
            {
                "type": "connection",
                "status": "connected",
                "message": "Connected to Codette AI Unified Server",
                "codette_available": True,
                "timestamp": now(),
            }
        )
        while True:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                await websocket.send_json({"type": "error", "message": "Invalid JSON format", "timestamp": now()})
                continue
            logger.info("WebSocket %s received: %s", connection_id, message.get("type"))
            await websocket.send_json(answer(message))
    except WebSocketDisconnect:
        logger.info("WebSocket disconnected: %s", connection_id)
    finally:
        connections.discard(websocket)
        logger.info("WebSocket cleanup: %s (remaining: %s)", connection_id, len(connections))
