"""One pure decision controller per power-control mode."""
