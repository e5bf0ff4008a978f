"""The master controller: when leader, turns node states into term-stamped setpoints."""
