"""peerbot's composition root: the CLI, process supervision, training and benchmarks."""
