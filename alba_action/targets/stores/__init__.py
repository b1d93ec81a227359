"""Object stores: an S3 bucket, a local folder, and documents that concurrent writers converge on."""
