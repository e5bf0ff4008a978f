"""ZeroMQ transport of the cluster: versioned JSON codec, CURVE keys, ROUTER/DEALER and PUB/SUB."""
