#!/usr/bin/env python3
"""Synthetic node databases for the fleet benchmark: copies of one real
node database (TEMPLATE, 100 cases), each with its own run uuid, node name
and medians scattered by 3% (log-normal); every 100th node is 2x slower.
  mkfleet.py TEMPLATE OUTDIR N"""
import math
import os
import random
import shutil
import sqlite3
import sys
import uuid
from multiprocessing import Pool

template, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])


def make(i):
    rnd = random.Random(i)
    f = os.path.join(out, "n%05d.db" % i)
    shutil.copyfile(template, f)
    con = sqlite3.connect(f)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("UPDATE runs SET uuid = ?", (str(uuid.UUID(int=rnd.getrandbits(128))),))
    con.execute("UPDATE run_nodes SET node = ?", ("n%05d" % i,))
    slow = 2.0 if i % 100 == 7 else 1.0
    ids = [r[0] for r in con.execute("SELECT metric_id FROM summaries")]
    con.executemany("UPDATE summaries SET median = median * ? WHERE metric_id = ?",
                    [(slow * math.exp(0.03 * rnd.gauss(0, 1)), m) for m in ids])
    con.commit()
    con.close()


if __name__ == "__main__":
    os.makedirs(out, exist_ok=True)
    with Pool(2) as p:
        p.map(make, range(n), chunksize=64)
