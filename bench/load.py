"""What the HTTP benchmarks share: free ports, waiting for a process to be healthy, a process's resident memory, and
loading one URL with N connections for a while (wrk when installed, else a Python load generator in a process of its
own), each run bounded in time."""

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not healthy")


def start_uvicorn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen:
    """uvicorn with `arguments` as a process of its own, run from the repository, its output dropped."""
    uvicorn = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen([*uvicorn, *arguments], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate the processes, killing those that have not stopped within 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_mb(pid: int) -> float:
    """The resident memory of a process, MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: str = ""


def _wrk(url: str, token: str, connections: int, duration: float) -> Load:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "-H", f"Authorization: Bearer {token}",
         url],
        capture_output=True, text=True, timeout=duration + 30, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=ms("50%"),
        p99_ms=ms("99%"),
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=errors.group(1) if errors else "",
    )


LOADGEN = r"""
import asyncio, json, sys, time
import aiohttp
url, token, conns, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
async def main():
    lat, bad = [], 0
    end = time.perf_counter() + duration
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer " + token},
                                     connector=aiohttp.TCPConnector(limit=conns)) as s:
        async def worker():
            nonlocal bad
            while time.perf_counter() < end:
                t = time.perf_counter()
                async with s.get(url) as r:
                    await r.read()
                    bad += r.status >= 400
                lat.append(time.perf_counter() - t)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        took = time.perf_counter() - start
    lat.sort()
    print(json.dumps({"rps": len(lat) / took, "p50_ms": lat[len(lat) // 2] * 1000,
                      "p99_ms": lat[int(len(lat) * 0.99)] * 1000, "non_2xx": bad}))
asyncio.run(main())
"""


def _python(url: str, token: str, connections: int, duration: float) -> Load:
    out = subprocess.run(
        [sys.executable, "-c", LOADGEN, url, token, str(connections), str(duration)],
        capture_output=True, text=True, timeout=duration + 30, check=True,
    ).stdout  # fmt: skip
    return Load(**json.loads(out))


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python/aiohttp"


def load(url: str, token: str, connections: int, duration: float) -> Load:
    """GET `url` with `connections` at a time for `duration` seconds; requests/s, p50, p99, the answers not 2xx."""
    return (_wrk if shutil.which("wrk") else _python)(url, token, connections, duration)
