"""Continue a "CIFAR-10 in a tab" run in PyTorch (see python/README.md)."""
