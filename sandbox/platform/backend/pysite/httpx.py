"""A small httpx stand-in shipped in the sandbox backend image (the machine's python has no httpx).

Covers what runbook snippets use: httpx.get/post/request with data=/json=/headers=/timeout=, Response.status_code,
.json(), .text, .raise_for_status(). TLS trust follows SSL_CERT_FILE like the real image's CA bundle.
"""

from __future__ import annotations

import json as _json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request

__version__ = "0.28.1-sandbox"


class HTTPStatusError(Exception):
    def __init__(self, message, response):
        super().__init__(message)
        self.response = response


class Response:
    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return _json.loads(self.content or b"null")

    def raise_for_status(self):
        if self.status_code >= 400:
            raise HTTPStatusError(f"HTTP {self.status_code}", self)
        return self


def _context():
    cafile = os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()


def request(method, url, *, data=None, json=None, headers=None, params=None, timeout=None, **_):
    headers = dict(headers or {})
    body = None
    if json is not None:
        body = _json.dumps(json).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(data, dict):
        body = urllib.parse.urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif data is not None:
        body = data if isinstance(data, bytes) else str(data).encode()
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, data=body, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(req, timeout=timeout or 30, context=_context()) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


def get(url, **kw):
    return request("GET", url, **kw)


def post(url, **kw):
    return request("POST", url, **kw)


def patch(url, **kw):
    return request("PATCH", url, **kw)


def delete(url, **kw):
    return request("DELETE", url, **kw)
