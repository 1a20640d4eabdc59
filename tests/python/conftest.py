"""Shared set-up for the Python tests: import sysgatelib from scripts/, find fixtures."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
FIXTURES = os.path.join(ROOT, "tests", "python", "fixtures")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")

if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)


@pytest.fixture
def fixture_path():
    return lambda name: os.path.join(FIXTURES, name)
