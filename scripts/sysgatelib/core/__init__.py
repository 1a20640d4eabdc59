"""The ground floor: errors, number and name formatting, atomic writes, worker processes,
the Debian packages. Imports nothing else of sysgatelib."""
