"""Mail figures: how long `collect` takes per message, and `send` per message as .eml drafts.

A workspace for the bundled plan is made in a temporary folder; N replies, each with a differently
filled sector workbook, are written as .eml files (a third of them inside a PEC envelope, a third
forwarded), then collected twice (the second run finds them all already collected). Prints figures,
asserts nothing.

Run on its own: python bench/mail.py [--messages 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=60)
    n = ap.parse_args().messages

    from test_year import filled, mail, pec_envelope

    from piao_xls.forms.generate import generate
    from piao_xls.forms.layout import sector_workbook
    from piao_xls.mail.campaign import send
    from piao_xls.mail.collect import collect, local_messages
    from piao_xls.mail.transport import Drafts
    from piao_xls.plan.load import load_plan
    from piao_xls.plan.planfile import bundled_plan_path
    from piao_xls.workspace.ledger import Ledger
    from piao_xls.workspace.settings import init_workspace, load_settings

    plan = load_plan()
    with tempfile.TemporaryDirectory() as tmp:
        s = init_workspace(Path(tmp) / "ws", bundled_plan_path(), plan)
        # send refuses the placeholder addresses init writes: real-looking ones, as the clerk would type
        s.settings_file.write_text(s.settings_file.read_text(encoding="utf-8").replace(
            "@example.invalid\"  #", "@comune.test\"  #"), encoding="utf-8")
        s = load_settings(s.root)
        generate(plan, s.folder("moduli"))
        with Ledger(s.ledger_path) as led:
            t = time.perf_counter()
            actions = send(s, plan, led, Drafts(s.folder("bozze")))
            print(f"send: {len(actions)} drafts in {time.perf_counter() - t:.3f} s")
        codes = [x.code for x in plan.sectors]
        books = {c: sector_workbook(plan, plan.sector(c)) for c in codes}
        inbox = Path(tmp) / "eml"
        inbox.mkdir()
        t = time.perf_counter()
        for i in range(n):
            code = codes[i % len(codes)]
            data = filled(books[code], seed=i)
            m: EmailMessage = mail(f"{code.lower()}.responsabile@comune.test", f"Re: modulo {i}",
                                   attachments=[(books[code].filename, data)])
            if i % 3 == 1:
                m = pec_envelope(m)
            elif i % 3 == 2:
                m = mail(f"{code.lower()}.responsabile@comune.test", f"I: modulo {i}", inner=m)
            (inbox / f"{i:04d}.eml").write_bytes(m.as_bytes())
        print(f"{n} messages written in {time.perf_counter() - t:.2f} s")
        msgs = local_messages(inbox)
        with Ledger(s.ledger_path) as led:
            t = time.perf_counter()
            got = collect(s, plan, led, msgs)
            first = time.perf_counter() - t
            t = time.perf_counter()
            again = collect(s, plan, led, msgs)
            second = time.perf_counter() - t
        print(f"collect: {len(got)} attachments in {first:.2f} s ({first / n * 1000:.1f} ms per message: guard, "
              f"save, check, ledger); again: {second:.3f} s ({sum(c.outcome == 'già raccolto' for c in again)} "
              "already collected)")


if __name__ == "__main__":
    main()
