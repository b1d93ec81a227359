"""Attestations: SLSA provenance (an in-toto statement in a DSSE envelope) and the SBOMs a
build produced, attached to what was published — OCI 1.1 referrers for images, files under
the tag for static releases."""
