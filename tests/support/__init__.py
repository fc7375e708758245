"""What the tests and the benchmarks share: the load harness and the benchmark cache."""
