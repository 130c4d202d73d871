"""The bridge's defaults, in a module of their own so the command line reads them without loading the bridge."""

#: Where Ardour's OSC surface listens by default (Preferences > Control Surfaces > Open Sound Control).
DEFAULT_ARDOUR_PORT = 3819

#: Where the bridge listens: Ardour's replies and the Lua hook's reports (``$CODETTE_ARDOUR_PORT`` in Ardour).
DEFAULT_LISTEN_PORT = 3820

#: Where the bridge connects by default: a Codette server on this machine.
DEFAULT_SERVER_URL = "ws://127.0.0.1:8000/ws"

#: Seconds between levels-only analyses of each sounding track.
DEFAULT_LEVELS_INTERVAL = 0.2

#: The analysis type of the levels-only analyses (judges peak, RMS and crest factor).
DEFAULT_LEVELS_TYPE = "quality"

#: Seconds of audio a full analysis takes by default: what played up to the playhead.
DEFAULT_FULL_SECONDS = 10.0
