#!/usr/bin/env python3
"""Check an `hpsweep report` page (and optionally an `hpsweep export --csv` folder) against its
results file.

usage: check_report.py FILE.h5 REPORT.html [--csv DIR] [--live]

The page: well formed (every element closed, in order, by Python's HTML parser), nothing outside
it referenced (no http(s) src/href, no @import, url() only of ids in the page, no script), and
one mark of class "pt" per trial whose lr and weight decay are finite and positive (the file
read with h5py), each with the trial's status. With --live the file may have grown since the page
was written: the page's trials must be a prefix of the file's. The CSVs: one row per table row,
the tables' column names as the header, read back by pandas (or the csv module) equal to h5py's.
Exit 0 when all hold, 1 otherwise, 77 when h5py is missing.
"""
import math
import sys
from html.parser import HTMLParser

try:
    import h5py
    import numpy as np
except ImportError:
    print("skipped: h5py or numpy is not installed")
    sys.exit(77)

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "wbr"}
STATUS = ["pending", "running", "done", "diverged", "failed", "pruned"]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAILED:", msg)


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.points, self.ids, self.total, self.in_total = [], [], set(), None, False
        self.text = []

    def check_attrs(self, tag, attrs):
        for k, v in attrs:
            v = v or ""
            if k in ("src", "href") and (v.startswith(("http:", "https:", "//")) or "://" in v):
                fail(f"<{tag} {k}={v!r}>: an external reference")
            if "url(" in v and "url(#" not in v:
                fail(f"<{tag} {k}={v!r}>: url() of something outside the page")
            if k == "id":
                if v in self.ids:
                    fail(f"id {v!r} used twice")
                self.ids.add(v)

    def handle_starttag(self, tag, attrs):
        self.check_attrs(tag, attrs)
        if tag == "script":
            fail("a <script> element")
        a = dict(attrs)
        if "pt" in (a.get("class") or "").split():
            self.points.append((int(a["data-trial"]), a["class"].split()[1]))
        self.in_total = tag == "td" and a.get("data-status") == "total"
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.check_attrs(tag, attrs)
        a = dict(attrs)
        if "pt" in (a.get("class") or "").split():
            self.points.append((int(a["data-trial"]), a["class"].split()[1]))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            fail(f"</{tag}> at line {self.getpos()[0]} closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.in_total:
            self.total = int(data)
            self.in_total = False


def placeable(v):
    return math.isfinite(v) and v > 0


def check_page(h5, html, live):
    page = Page()
    with open(html, encoding="utf-8") as f:
        src = f.read()
    page.feed(src)
    page.close()
    if page.stack:
        fail(f"unclosed elements: {page.stack[:5]}")
    if "@import" in src:
        fail("@import in the page")
    with h5py.File(h5, "r", libver="latest", swmr=True) as f:
        trials = f["trials"][:]
    want = [(int(t["id"]), STATUS[int(t["status"])]) for t in trials
            if placeable(float(t["lr"])) and placeable(float(t["weight_decay"]))]
    got = sorted(page.points)
    if live:
        ids = {i for i, _ in want}
        bad = [p for p in got if p[0] not in ids]
        if bad or page.total is None or page.total > len(trials):
            fail(f"live: marks of trials not in the file {bad[:5]}, or {page.total} trials > {len(trials)}")
        drawable = [p for p in want if p[0] < (page.total or 0)]
        if len(got) != len(drawable):
            fail(f"live: {len(got)} marks for the {len(drawable)} drawable trials of the page's {page.total}")
    else:
        if page.total != len(trials):
            fail(f"the page counts {page.total} trials, the file has {len(trials)}")
        if got != sorted(want):
            fail(f"{len(got)} marks, want {len(want)} (trials with a finite, positive lr and weight decay); "
                 f"first differences: {sorted(set(got) ^ set(want))[:5]}")
    print(f"page: well formed, self-contained, {len(got)} trial marks, {len(trials)} trials in the file")


def read_csv(path):
    try:
        import pandas as pd
        return list(pd.read_csv(path, keep_default_na=False, dtype=str).columns), \
            pd.read_csv(path, keep_default_na=False, dtype=str).values.tolist(), "pandas"
    except ImportError:
        import csv
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        return rows[0], rows[1:], "csv"


def same(a, b):
    if isinstance(b, np.float32):  # float32 columns: the text reads back to the same float32
        return math.isnan(b) if a == "" else np.float32(float(a)) == b
    if isinstance(b, bytes):
        return a == b.decode()
    if a == "":
        return isinstance(b, (float, np.floating)) and math.isnan(b)
    if isinstance(b, (float, np.floating)):
        return float(a) == float(b)
    return a == str(b)


def check_csv(h5, folder):
    with h5py.File(h5, "r", libver="latest", swmr=True) as f:
        for name in ("trials", "curves"):
            table = f[name][:]
            cols, rows, how = read_csv(f"{folder}/{name}.csv")
            if cols != list(table.dtype.names):
                fail(f"{name}.csv columns {cols[:4]}... differ from {list(table.dtype.names)[:4]}...")
                continue
            if len(rows) != len(table):
                fail(f"{name}.csv has {len(rows)} rows, the table {len(table)}")
                continue
            bad = 0
            for r, t in zip(rows, table):
                for c, v in zip(cols, r):
                    want = t[c]
                    if name == "trials" and c == "status":
                        want = STATUS[int(want)]
                    if not same(v, want if not isinstance(want, np.generic) or isinstance(want, np.float32) else want.item()):
                        bad += 1
                        if bad <= 3:
                            fail(f"{name}.csv: {c} = {v!r}, the file has {want!r}")
            print(f"{name}.csv: {len(rows)} rows, {len(cols)} columns, read by {how}, equal to the table")


def main():
    args = sys.argv[1:]
    live = "--live" in args
    if live:
        args.remove("--live")
    folder = None
    if "--csv" in args:
        i = args.index("--csv")
        folder = args[i + 1]
        del args[i:i + 2]
    h5, html = args
    check_page(h5, html, live)
    if folder:
        check_csv(h5, folder)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
