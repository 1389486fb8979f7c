"""Write a small IDX data set (raw, not gzip'd) from the first examples of Fashion-MNIST, so
that integration tests load their data in milliseconds instead of a second.
usage: make_idx.py OUT_DIR [N_TRAIN N_TEST]"""
import gzip
import os
import struct
import sys

SRC = "/usr/share/datasets/fashion-mnist"


def read_idx(path, n):
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        ndim = magic[3]
        dims = list(struct.unpack(">" + "I" * ndim, f.read(4 * ndim)))
        per = 1
        for d in dims[1:]:
            per *= d
        dims[0] = min(n, dims[0])
        return magic, dims, f.read(per * dims[0])


def write_idx(path, magic, dims, data):
    with open(path, "wb") as f:
        f.write(magic)
        f.write(struct.pack(">" + "I" * len(dims), *dims))
        f.write(data)


def main(out, ntrain=3000, ntest=500):
    os.makedirs(out, exist_ok=True)
    for split, n in (("train", ntrain), ("t10k", ntest)):
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{split}-{kind}-ubyte"
            magic, dims, data = read_idx(os.path.join(SRC, name + ".gz"), n)
            write_idx(os.path.join(out, name), magic, dims, data)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
