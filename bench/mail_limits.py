"""Mail that cannot stop the year, in figures: the peak memory of `collect` on a large mbox (messages are read
one at a time), and the CPU time of hostile 1 MB messages (each refused or read within the limits).

A workspace for the bundled plan is made in a temporary folder. The mbox holds messages of about 1 MB each
(a scanned PDF; one in ten also carries a filled sector workbook), up to --mbox-mb megabytes; `piao-xls
collect` runs on it in a child process, whose peak RSS is read from the kernel (ru_maxrss). Then each hostile
message is collected on its own, in this process, and its CPU time printed. Prints figures, asserts nothing.

Run on its own: python bench/mail_limits.py [--mbox-mb 400]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def hostile() -> dict[str, bytes]:
    """About 1 MB each: the message classes that once cost minutes of CPU or a traceback."""
    xlsx = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def nested(depth: int, blank: int) -> bytes:
        out = b"From: sf.responsabile@example.invalid\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        for i in range(depth):
            out += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        out += b"Content-Type: text/plain\r\n\r\n" + b"\r\n" * blank
        return out + b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))

    def parts(n: int) -> bytes:
        return (b"From: sf.responsabile@example.invalid\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n" +
                b"".join(b"--z\r\nContent-Type: " + xlsx + b"\r\nContent-Disposition: attachment; "
                         b"filename=a%d.xlsx\r\n\r\nPK\r\n" % i for i in range(n)) + b"--z--\r\n")

    return {
        "1,000 nested multiparts, 1 MB of empty lines": nested(1000, 500_000),
        "39 nested multiparts, 1 MB of empty lines": nested(39, 500_000),
        "7 nested multiparts, 1 MB of empty lines": nested(7, 500_000),
        "10,000 tiny attachments": parts(10_000),
        "1,900 tiny attachments": parts(1_900),
        "1 MB of quotes in To:": b"From: a@b.invalid\r\nTo: " + b'"a, ' * 250_000 + b"\r\n\r\nx",
        "1 MB of encoded words in Subject": b"From: a@b.invalid\r\nSubject: " + b"=?utf-8?q?a?= " * 70_000
                                            + b"\r\n\r\nx",
        "80,000 header lines": b"".join(b"X-H%d: v\r\n" % i for i in range(80_000)) + b"From: a@b.invalid\r\n\r\nx",
        "1,000 nested comments in Content-Type": b"From: a@b.invalid\r\nContent-Type: text/plain" + b"(" * 1000
                                                 + b"\r\n\r\nx",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mbox-mb", type=int, default=400)
    size_mb = ap.parse_args().mbox_mb

    from test_year import filled, mail

    from piao_xls.forms.layout import sector_workbook
    from piao_xls.mail.collect import RawMessage, collect
    from piao_xls.plan.load import load_plan
    from piao_xls.plan.planfile import bundled_plan_path
    from piao_xls.workspace.ledger import Ledger
    from piao_xls.workspace.settings import init_workspace

    plan = load_plan()
    with tempfile.TemporaryDirectory() as tmp:
        s = init_workspace(Path(tmp) / "ws", bundled_plan_path(), plan)
        book = sector_workbook(plan, plan.sector("SF"))
        box = Path(tmp) / "posta.mbox"
        pdf = os.urandom(700_000)  # ~0.95 MB once in base64
        t = time.perf_counter()
        n = 0
        with open(box, "wb") as fh:
            while fh.tell() < size_mb * 1024 * 1024:
                attachments = [("PIAO-2025-SF-Finanziario.xlsx", filled(book, n))] if n % 10 == 0 else []
                m = mail("sf.responsabile@example.invalid", f"Re: modulo {n}", attachments=attachments)
                m.add_attachment(pdf[n % 97:] + pdf[:n % 97], maintype="application", subtype="pdf",
                                 filename="scansione.pdf")
                fh.write(b"From sf.responsabile@example.invalid Mon Jan 19 10:00:00 2026\n")
                fh.write(m.as_bytes().replace(b"\nFrom ", b"\n>From ") + b"\n")
                n += 1
        print(f"mbox: {n} messages, {box.stat().st_size / 2**20:.0f} MiB, written in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "piao_xls.cli", "-C", str(s.root), "collect", str(box)],
                             capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        print(f"collect of the mbox: exit {run.returncode}, {wall:.1f} s, peak RSS {peak:.0f} MiB "
              f"({run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-300:]})")

        print("hostile messages (collected one by one, this process):")
        with Ledger(s.ledger_path) as led:
            for name, data in hostile().items():
                t = cpu()
                (got, *_) = collect(s, plan, led, [RawMessage(data, "eml", name)])
                codes = ",".join(f["code"] for f in got.findings) or "-"
                print(f"  {name:45} {len(data) / 2**20:5.2f} MiB  {cpu() - t:6.3f} s CPU  {got.outcome} {codes}")


if __name__ == "__main__":
    main()
