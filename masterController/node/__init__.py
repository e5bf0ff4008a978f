"""The node controller: follows the master's setpoints under the setpoint contract."""
