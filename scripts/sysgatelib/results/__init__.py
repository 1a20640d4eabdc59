"""Results files: reading them (load), the validation gate, legacy names, environment
differences, kernel version order."""
