"""Python's imaplib as a real IMAP client against mailroom, driven by
internal/imap/interop's tests. Settings come from the environment
(IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASS, IMAP_CA, IMAP_SECURE "1" for
implicit TLS, else STARTTLS); it prints one JSON document.

  python3 imaplib_client.py read     capabilities before and after TLS, a
                                     LOGIN before TLS, LIST, SEARCH and
                                     FETCH in INBOX and Sent Items
  python3 imaplib_client.py login    only log in: {"ok": bool, "error": ...}
"""
import imaplib
import json
import os
import re
import ssl
import sys

env = os.environ
ctx = ssl.create_default_context(cafile=env["IMAP_CA"])
host, port = env["IMAP_HOST"], int(env["IMAP_PORT"])
out = {}


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def connect():
    if env.get("IMAP_SECURE") == "1":
        return imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=20)
    c = imaplib.IMAP4(host, port, timeout=20)
    out["capabilities_before_tls"] = sorted(c.capabilities)
    try:
        c.login(env["IMAP_USER"], env["IMAP_PASS"])
        out["login_before_tls"] = "OK"
    except imaplib.IMAP4.error as e:
        out["login_before_tls"] = text(e)
    c.starttls(ssl_context=ctx)
    return c


def fetch_folder(c, name):
    typ, data = c.select('"%s"' % name)
    if typ != "OK":
        return {"error": text(data)}
    typ, data = c.uid("SEARCH", None, "ALL")
    uids = text(data[0]).split()
    msgs = []
    for uid in uids:
        typ, data = c.uid("FETCH", uid, "(FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)])")
        meta, hdr = text(data[0][0]), text(data[0][1])
        subject = re.search(r"(?im)^subject:\s*(.*)$", hdr)
        flags = re.search(r"FLAGS \(([^)]*)\)", meta)
        msgs.append({"uid": int(uid), "subject": subject.group(1).strip() if subject else "",
                     "flags": sorted(flags.group(1).split()) if flags else []})
    return {"messages": msgs}


def read():
    c = connect()
    out["capabilities"] = sorted(c.capabilities)
    c.login(env["IMAP_USER"], env["IMAP_PASS"])
    typ, data = c.list()
    out["list"] = [text(d) for d in data]
    out["inbox"] = fetch_folder(c, "INBOX")
    typ, data = c.uid("SEARCH", None, "SUBJECT", '"%s"' % env.get("SEARCH_SUBJECT", "x"))
    out["search_subject"] = [int(u) for u in text(data[0]).split()]
    typ, data = c.uid("SEARCH", None, "SINCE", env.get("SEARCH_SINCE", "1-Jan-2020"))
    out["search_since"] = [int(u) for u in text(data[0]).split()]
    out["sent"] = fetch_folder(c, "Sent Items")
    c.logout()


def login():
    try:
        c = connect()
        c.login(env["IMAP_USER"], env["IMAP_PASS"])
        out["ok"] = True
        c.logout()
    except imaplib.IMAP4.error as e:
        out["ok"] = False
        out["error"] = text(e)


try:
    {"read": read, "login": login}[sys.argv[1]]()
except Exception as e:  # the test reads the error from the JSON
    out["exception"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(out))
