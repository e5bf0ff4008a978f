"""Non-BMS devices: register-map engine, inverter and meter drivers, climate, sensors, GPIO, watchdog."""
