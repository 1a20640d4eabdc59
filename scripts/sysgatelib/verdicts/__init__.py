"""Turning figures into judgements: statistics, the thresholds, checks, change points,
indirect cost. Returns values; render/ prints them."""
