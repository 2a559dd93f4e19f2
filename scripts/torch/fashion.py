"""Fashion-MNIST from Debian's IDX files, as uint8 arrays."""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _read(path, header):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def load(split, folder=DEFAULT_DIR):
    """(images [N, 28, 28] uint8, labels [N] int64) of 'train' or 't10k'."""
    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        raise FileNotFoundError(os.path.join(folder, stem))
    images = _read(find(split + "-images-idx3-ubyte"), 16).reshape(-1, 28, 28)
    labels = _read(find(split + "-labels-idx1-ubyte"), 8).astype(np.int64)
    return images, labels
