"""Over-the-air artifacts: signed manifests, side-by-side software releases, config artifacts."""
