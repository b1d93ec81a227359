"""What users see: progress and trace on stderr, outputs, summaries, masking."""
