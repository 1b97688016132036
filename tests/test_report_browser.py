"""The recall report renders in headless Chromium (Debian's `chromium` package): a screenshot of the
page is a real picture, not a blank one. Run with: .venv/bin/python -m pytest -m browser tests/test_report_browser.py"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from orchestration.reporting import render_report
from test_report import demo_metrics

pytestmark = pytest.mark.browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("headless Chromium not found: apt-get install -y chromium")


def _png_pixels(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into an (h, w, channels) array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    rows, prev = [], np.zeros(width * channels, np.int32)
    for line in raw:  # undo the PNG row filters
        f, cur = line[0], line[1:].astype(np.int32)
        out = np.zeros_like(cur)
        for i in range(len(cur)):
            a = out[i - channels] if i >= channels else 0
            b, c = prev[i], (prev[i - channels] if i >= channels else 0)
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2}.get(f)
            if pred is None:  # Paeth
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (cur[i] + pred) & 0xFF
        rows.append(out)
        prev = out
    return np.array(rows, np.uint8).reshape(height, width, channels)


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "recall_report.html"
    page.write_text(render_report(demo_metrics()), encoding="utf-8")
    png = Path(os.environ.get("RECALL_REPORT_SCREENSHOT", tmp_path / "recall_report.png"))
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}", "--window-size=1280,2000", page.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert png.is_file() and png.stat().st_size > 20_000
    pixels = _png_pixels(png)[::4, ::4, :3]  # every 4th pixel is plenty
    assert pixels.shape[:2] == (500, 320)
    colours = {tuple(p) for p in pixels.reshape(-1, 3)}
    assert len(colours) > 50  # text, axes and several chart colours, not a blank page
    blue = (np.abs(pixels.astype(int) - [37, 99, 235]).sum(axis=2) < 60).mean()
    assert blue > 0.001  # the interval charts are drawn
