"""Benchmarks of mlp against PyTorch on the CPU: `make bench` (python -m benchmarks.run)."""
