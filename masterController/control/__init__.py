"""Pure power control: PID, mode controllers, allocation and schedules (no I/O, time is passed in)."""
