"""Modbus emulators that serve the production register maps from a plant's state (pymodbus servers)."""
