"""Cabinet climate: pure controller (hysteresis, ramp, manual force), actuators, and the service loop."""
