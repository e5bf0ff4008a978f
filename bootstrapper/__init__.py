"""First-boot provisioning of a new Raspberry Pi: identity, site parameters, cluster keys, service."""
