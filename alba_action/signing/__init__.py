"""Signing keys in (minisign for static files, ECDSA P-256 for images), signatures out.

Keys are loaded and unlocked at the edge, before anything is uploaded: a wrong password or
a key of the wrong kind fails the run at once. Key material never appears in a repr, a
message or a log line.
"""
