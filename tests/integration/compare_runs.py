"""Compare two hpsweep results files: same trials (values, seeds, status, epochs, metrics) and
the same curves, exactly; what may differ is who ran what (rank, host, gpu, device) and how long it took."""
import sys

import h5py
import numpy as np

SKIP = {"rank", "host", "gpu", "device", "seconds", "snapshot_row"}


def table(f, name):
    return f[name][:]


def main(a_path, b_path):
    with h5py.File(a_path, "r", libver="latest", swmr=True) as a, h5py.File(b_path, "r", libver="latest", swmr=True) as b:
        bad = 0
        for name, order in (("trials", "id"), ("curves", None), ("stages", None), ("final", None)):
            ta, tb = table(a, name), table(b, name)
            if name == "curves":  # arrival order differs between runs: sort by (trial, epoch)
                ta = np.sort(ta, order=["trial", "epoch"])
                tb = np.sort(tb, order=["trial", "epoch"])
            if ta.shape != tb.shape:
                print(f"{name}: {ta.shape} rows vs {tb.shape}")
                bad += 1
                continue
            for field in ta.dtype.names:
                if field in SKIP:
                    continue
                x, y = ta[field], tb[field]
                same = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
                if not same:
                    print(f"{name}.{field} differs:\n  {x}\n  {y}")
                    bad += 1
        n = len(a["trials"])
        print(f"compared {n} trials, {len(a['curves'])} curve rows: {'identical' if bad == 0 else str(bad) + ' differences'}")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
