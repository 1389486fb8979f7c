#!/usr/bin/env python3
"""Check an `hpsweep report` page (and optionally an `hpsweep export --csv` folder) against its
results file.

usage: check_report.py FILE.h5 REPORT.html [--csv DIR] [--live]
       check_report.py A.h5 COMPARE.html --compare B.h5

The page: well formed (every element closed, in order, by Python's HTML parser), nothing outside
it referenced (no http(s) src/href, no @import, url() only of ids in the page, no script), and
one mark of class "pt" per trial whose lr and weight decay are finite and positive (the file
read with h5py), each with the trial's status. With --live the file may have grown since the page
was written: the page's trials must be a prefix of the file's. The CSVs: one row per table row,
the tables' column names as the header, read back by pandas (or the csv module) equal to h5py's.
With --compare, the page compares A and B (`hpsweep report A B`): well formed and self-contained
as above, the marks in the svg "a-space" are A's drawable trials, those in "b-space" B's, and the
total cells (data-file="a"/"b") equal the files' trial counts.
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
        self.svg = None            # the id of the svg being read
        self.by_svg = {}           # svg id -> [(trial, status)]
        self.totals = {}           # data-file -> the total cell's count

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
        if tag == "svg":
            self.svg = a.get("id")
        self.add_point(a)
        self.in_total = tag == "td" and a.get("data-status") == "total"
        self.total_file = a.get("data-file")
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.check_attrs(tag, attrs)
        self.add_point(dict(attrs))

    def add_point(self, a):
        if "pt" in (a.get("class") or "").split():
            p = (int(a["data-trial"]), a["class"].split()[1])
            self.points.append(p)
            self.by_svg.setdefault(self.svg, []).append(p)

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
            self.totals[self.total_file] = self.total
            self.in_total = False


def placeable(v):
    return math.isfinite(v) and v > 0


def parse_page(html):
    page = Page()
    with open(html, encoding="utf-8") as f:
        src = f.read()
    page.feed(src)
    page.close()
    if page.stack:
        fail(f"unclosed elements: {page.stack[:5]}")
    if "@import" in src:
        fail("@import in the page")
    return page


def drawn_trials(h5):
    """The file's trials, and the (id, status) of those the searched space can place."""
    with h5py.File(h5, "r", libver="latest", swmr=True) as f:
        trials = f["trials"][:]
    return trials, [(int(t["id"]), STATUS[int(t["status"])]) for t in trials
                    if placeable(float(t["lr"])) and placeable(float(t["weight_decay"]))]


def check_compare(a, b, html):
    page = parse_page(html)
    for tag, h5 in (("a", a), ("b", b)):
        trials, want = drawn_trials(h5)
        got = sorted(page.by_svg.get(f"{tag}-space", []))
        if got != sorted(want):
            fail(f"{tag}-space: {len(got)} marks, want {len(want)}; differences {sorted(set(got) ^ set(want))[:5]}")
        if page.totals.get(tag) != len(trials):
            fail(f"the page counts {page.totals.get(tag)} trials for {tag.upper()}, the file has {len(trials)}")
        print(f"{tag.upper()}: {len(got)} trial marks, {len(trials)} trials in {h5}")
    extra = set(page.by_svg) - {"a-space", "b-space"}
    if extra:
        fail(f"trial marks outside the two searched spaces: {extra}")


def check_page(h5, html, live):
    page = parse_page(html)
    trials, want = drawn_trials(h5)
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
    compare = None
    if "--compare" in args:
        i = args.index("--compare")
        compare = args[i + 1]
        del args[i:i + 2]
    h5, html = args
    if compare:
        check_compare(h5, compare, html)
        sys.exit(1 if failures else 0)
    check_page(h5, html, live)
    if folder:
        check_csv(h5, folder)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
