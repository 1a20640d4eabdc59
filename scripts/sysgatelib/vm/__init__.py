"""Many kernels on one box: QEMU, the initramfs and its /init, fetching kernel packages."""
