"""`alba container copy` and `alba static copy`: promote and mirror releases between any two
targets, digest for digest, with their signatures, attestations, SBOMs and checksums.

graph.py plans (pure: what a manifest reaches, the write order, the copy plan); images.py
and static.py read and check the whole source, then write each target as a push would;
command.py is the entry the command line and the CI step call."""
