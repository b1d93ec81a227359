"""Matrix builds: each job publishes its platforms as parts of a release id (`--part`),
one step assembles them (`assemble`) into exactly what a one-job push writes."""
