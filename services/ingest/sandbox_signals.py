"""Imported first by the parse workers' forkserver (see `sandbox.py`): Ctrl-C is for the service.

A terminal's Ctrl-C reaches every process in `luoshi up`'s group. The forkserver ignores it only
after its preloads, and its workers inherit what it had then; ignoring it from here on lets the
service end them after the uploads in hand, instead of them dying mid-parse with a traceback.
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
