"""The SCADA interface: Modbus TCP/RTU control server, SunSpec view and meter gateway (see server.py)."""
