"""sysgate's Python side: results -> store -> reports."""

VERSION = "0.1.0"
