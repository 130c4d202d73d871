"""Bridges: programs that join a Codette server as a DAW on behalf of a real DAW.

A bridge speaks the Codette protocol over a WebSocket like any DAW and imports
nothing of the server, so the server may run on another machine.
"""
