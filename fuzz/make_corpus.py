#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/) from the repository's
next-auth vectors (tests/vectors) and a few typical requests. Run from the repository root;
the output is committed, so CI never grows or regenerates it."""

import hashlib
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEC = os.path.join(ROOT, "tests", "vectors")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def load(name):
    with open(os.path.join(VEC, name), encoding="utf-8") as f:
        return json.load(f)


def write(target, items):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for item in items:
        data = item.encode("utf-8") if isinstance(item, str) else item
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


v4 = {c["name"]: c for c in load("jwt-v4.json")["cases"]}
v5 = {c["name"]: c for c in load("jwt-v5.json")["cases"]}
csrf = load("csrf.json")["generated"][0]["setCookieValueOnWire"]
t4 = v4["basic-default-claims"]["token"]
t5 = v5["basic-http-cookie-name"]["token"]
big4 = v4["large-payload-chunked-cookie"]["token"]
FF = b"\xff"

# cookie_header: options byte, then Cookie header values separated by 0xFF.
chunk = 4096 - 163
chunks = [big4[i : i + chunk] for i in range(0, len(big4), chunk)]
write(
    "cookie_header",
    [
        b"\x00" + f"next-auth.csrf-token={csrf}; next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000; next-auth.session-token={t4}".encode(),
        b"\x00" + "; ".join(f"next-auth.session-token.{i}={c}" for i, c in enumerate(chunks)).encode(),
        b"\x01" + f"authjs.csrf-token={csrf}; authjs.callback-url=http%3A%2F%2Flocalhost%3A3000; authjs.session-token={t5}".encode(),
        b"\x02" + f"__Host-next-auth.csrf-token={csrf}".encode() + FF + f"__Secure-next-auth.session-token={t4}".encode(),
        b"\x88" + b'a=1; a=2; b="quoted"; c=%E2%9C%93; d=%ZZ; next-auth.session-token.1=x; next-auth.session-token.0=y' + FF + t4.encode(),
    ],
)

# jwe_decode: 0x00 then a token, or 0x01 then a JSON claims object.
write(
    "jwe_decode",
    [b"\x00" + c["token"].encode() for c in list(v4.values())[:4]]
    + [b"\x00" + v5[n]["token"].encode() for n in ["basic-http-cookie-name", "rotated-secret-decode-with-old", "a256gcm-no-kid-accepted"]]
    + [
        b'\x01{"name":"Alice Example","email":"alice@example.com","picture":"https://example.com/a.png","sub":"1"}',
        b'\x01{"sub":"1","nbf":1795000100,"roles":["admin"],"n":1.5e300}',
    ],
)

# request_body: Content-Type index (0 form, 1 JSON, 2 none, ...), or 0xFF, the type, 0xFF;
# then the body (also parsed as a query string and a route path).
token = "2f6f518651823ea61e0f9ad6a1d6ddf73cbc959540cbdce568e64bafbca1ddb5"
write(
    "request_body",
    [
        b"\x00" + f"email=user%40example.com&csrfToken={token}&callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fdashboard&json=true".encode(),
        b"\x00" + f"username=alice&password=p%C3%A4ss+word&csrfToken={token}&redirect=false".encode(),
        b"\x01" + json.dumps({"csrfToken": token, "data": {"name": "New"}}).encode(),
        b"\x01" + json.dumps({"csrfToken": token, "json": "true", "email": ["a@x.com", "b@x.com"]}).encode(),
        b"\x02/api/auth/callback/email?token=abc&email=a%40example.com",
        b"\xffapplication/json; charset=utf-8\xff" + json.dumps({"callbackUrl": "/x", "json": "true"}).encode(),
        b"\x00/api/auth/signin/%E2%9C%93",
    ],
)

# callback_url: origin index, then the callbackUrl parameter, optionally 0xFF and the cookie.
write(
    "callback_url",
    [
        b"\x00/dashboard",
        b"\x00http://localhost:3000/a?b=1#c",
        b"\x01https://app.example.com/welcome" + FF + b"https://app.example.com/",
        b"\x00//evil.example/x",
        b"\x00/\\evil.example",
        b"\x00http://localhost:3000@evil.example/",
        b"\x00javascript:alert(1)" + FF + b"/from-cookie",
        b"\x00/x\r\nSet-Cookie: a=b",
        b"\x02https://[::1]:8443/p?q=%0d%0a",
        b"\x04https://b\xc3\xbccher.example/",
    ],
)

# email_identifier: the raw `email` field.
write(
    "email_identifier",
    [
        "user@example.com",
        "  User@Example.com ",
        "ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "a@b.example,c.example",
        "ÜSER@BÜCHER.example",
        "first.last+tag@sub.example.co.uk",
        "a<victim@x.com>",
        '"c" <victim@x.com>',
        "(c)victim@x.com",
        "a@example.com\r\nBcc: x@evil.example",
        "a..b@x.com",
    ],
)
