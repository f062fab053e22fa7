# SPDX-License-Identifier: MIT
"""The conformance suite's pytest setup: the vfn plugin (python/vfn/pytest_plugin.py).

From a source tree, `pytest tests/conformance --device sim:` finds the
package in python/ and libvfn.so in build*/ (see docs/python.md); an
installed package and $VFN_LIB work too.
"""
import os
import sys

try:
    import vfn  # noqa: F401  (installed, or on PYTHONPATH)
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

from vfn.pytest_plugin import *  # noqa: E402,F401,F403  (options, fixtures, markers, hooks)
