"""Build an Ardour 7 session of the demo stems with the OSC surface on (see codette_lab.bridges.ardour.demo_session).

Usage: ``python scripts/make_ardour_session.py [DIR] [--name "Low Tide"]``; prints the ``.ardour`` file's path.
"""

import sys

from codette_lab.bridges.ardour.demo_session import main

if __name__ == "__main__":
    sys.exit(main())
