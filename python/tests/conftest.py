# SPDX-License-Identifier: MIT
# The bindings' own tests: import the package from this source tree.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
