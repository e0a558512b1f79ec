"""Memory of one gunicorn worker while a 25 MB document is uploaded and downloaded.

Not a test: it prints the worker's peak resident set (VmHWM) after a warm-up with a small file,
after the large upload and after the large download. Uploads stream from the request into
64 KiB encrypted chunk rows and downloads stream chunk by chunk, so the peak should grow by far
less than the file's size.

    .venv/bin/python bench/documents_memory.py [--size-mb 25] [--database URL]
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.system.harness import Browser, Gunicorn, make_app, new_keys, reset_postgres, seed, server_env  # noqa: E402


def multipart_file(path: Path, fields: dict[str, str], file_name: str, size: int) -> tuple[str, int]:
    """Write a multipart/form-data body with a PDF-looking file of ``size`` bytes to ``path``."""
    boundary = uuid.uuid4().hex
    with path.open("wb") as out:
        for name, value in fields.items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                  "Content-Type: application/pdf\r\n\r\n".encode())
        out.write(b"%PDF-1.7\n")
        written, block = 9, os.urandom(1024 * 1024)
        while written < size:
            part = block[:size - written]
            out.write(part)
            written += len(part)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", path.stat().st_size


def upload(browser: Browser, case_id: int, body: Path, content_type: str, length: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=300)
    try:
        with body.open("rb") as stream:  # http.client sends a file object in blocks
            connection.request("POST", f"/casussen/{case_id}/documenten", body=stream, headers={
                "Content-Type": content_type, "Content-Length": str(length),
                "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def download(browser: Browser, path: str) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=300)
    try:
        connection.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())})
        response = connection.getresponse()
        received = 0
        while chunk := response.read(64 * 1024):
            received += len(chunk)
        return response.status, received
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=25)
    parser.add_argument("--database", help="a PostgreSQL URL (emptied!); default a new SQLite file")
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024

    with tempfile.TemporaryDirectory(prefix="mda-docmem-") as folder:
        work = Path(folder)
        url = args.database or f"sqlite:///{work / 'bench.sqlite'}"
        if url.startswith("postgresql"):
            reset_postgres(url)
        env = server_env(url, work, new_keys())
        env["MDA_ATTACHMENT_MAX_BYTES"] = str(size + 1024 * 1024)
        app = make_app(env)
        with app.app_context():
            from mda.db import db
            from mda.migrate import upgrade
            upgrade(db.engine)
            manifest = seed(app, cases=2, coordinators=1, experts=1, referrers=1, steering=1, leads=1,
                            journal_per_case=1, persons_per_case=1)
            db.dispose()
        account = next(a for a in manifest.accounts if a.role == "coordinator" and a.case_ids)
        case_id = account.case_ids[0]

        with Gunicorn(env, workers=1, log=work / "gunicorn.log") as server:
            browser = Browser(server.port, timeout=300)
            browser.login(account)
            browser.get(f"/casussen/{case_id}/documenten")
            fields = {"csrf_token": browser.csrf or "", "kind": "decision", "description": "Meting", "link": "",
                      "person": "0"}

            def round_trip(label: str, file_size: int) -> dict[str, float]:
                body = work / f"{label}.body"
                content_type, length = multipart_file(body, fields, f"{label}.pdf", file_size)
                started = time.monotonic()
                status = upload(browser, case_id, body, content_type, length)
                uploaded = time.monotonic() - started
                assert status == 302, f"upload answered {status}"
                after_upload = max(server.peak_memory_mb().values())
                page = browser.get(f"/casussen/{case_id}/documenten")[2]
                attachment_id = max(int(i) for i in re.findall(rf"/casussen/{case_id}/documenten/(\d+)/downloaden", page))
                started = time.monotonic()
                status, received = download(browser, f"/casussen/{case_id}/documenten/{attachment_id}/downloaden")
                downloaded = time.monotonic() - started
                assert status == 200 and received == file_size, (status, received)
                body.unlink()
                return {"upload_s": uploaded, "download_s": downloaded, "after_upload": after_upload,
                        "after_download": max(server.peak_memory_mb().values())}

            warm = round_trip("warm-up", 200 * 1024)
            large = round_trip("large", size)

    print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}; one gunicorn sync worker")
    print(f"peak RSS after a 200 kB warm-up round trip: {warm['after_download']:.1f} MB")
    print(f"peak RSS after uploading {args.size_mb} MB:          {large['after_upload']:.1f} MB "
          f"(+{large['after_upload'] - warm['after_download']:.1f} MB; {large['upload_s']:.1f} s)")
    print(f"peak RSS after downloading {args.size_mb} MB:        {large['after_download']:.1f} MB "
          f"(+{large['after_download'] - warm['after_download']:.1f} MB; {large['download_s']:.1f} s)")


if __name__ == "__main__":
    main()
