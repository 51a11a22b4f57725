"""Compile the reader's hot modules to C with mypyc, in place (run by `make compile`).

A group name inside the package keeps mypyc's shared runtime module importable from an
installed (or editable) package, not only from the checkout's root.
"""

from __future__ import annotations

import sys

from mypyc.build import mypycify
from setuptools import setup

modules = sys.argv[1:]
sys.argv = [sys.argv[0], "build_ext", "--inplace", "--quiet"]
setup(
    name="gongkai-compiled",
    ext_modules=mypycify(modules, group_name="extractor._compiled", opt_level="3"),
    script_args=sys.argv[1:],
)
