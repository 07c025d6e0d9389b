"""Speed and memory benchmarks; `make bench` runs them all (benchmarks.run_all) and writes BENCHMARKS.md."""
