"""`alba verify`: fetch what a user would fetch and check every document, file, manifest,
blob, checksum and signature of one release; list every problem, not only the first."""
