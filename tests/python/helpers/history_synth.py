"""The tests' name for sysgatelib.results.synth (the synthetic results generator, kept in
the package so that benchmarks/store_bench.py imports no test module): `import
history_synth as synth` gives that very module, from a test or from a script that put
tests/python/helpers on sys.path."""

import os
import sys

_SCRIPTS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", "..", "..", "scripts"))
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

from sysgatelib.results import synth  # noqa: E402

sys.modules[__name__] = synth
