"""Multi-process simulation of a cluster site: one plant process, one OS process per node."""
