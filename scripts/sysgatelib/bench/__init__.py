"""The benchmark binary: building it, and the seccomp wrapper that runs it under a filter."""
