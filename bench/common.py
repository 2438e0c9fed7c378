"""What the benchmarks share: the corpora, the product's commands, a served archive, figures.

The benchmarks drive the product only as a user or a script would: the
``python -m indexer`` commands, ``python -m archive serve`` over HTTP, and the
:class:`~indexer.archive.Archive` object.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
LIVEDOOR = ROOT.parent / "shared" / "data" / "livedoor"


def require(path: Path, what: str) -> None:
    """Exit with a clear message unless ``path`` exists (a folder must not be empty)."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        sys.exit(f"{what} is missing: nothing at {path}")


# Corpora: a folder of livedoor files, or of JSON Lines files (bench/make_corpus.py).


@dataclass(frozen=True)
class Text:
    title: str
    body: str


def corpus_files(corpus: Path) -> list[Path]:
    """The article files of a corpus, sorted: its JSON Lines files, else its livedoor files."""
    if corpus.is_file():
        return [corpus]
    files = sorted(corpus.rglob("*.jsonl"))
    if not files:
        # Each livedoor section folder also holds a LICENSE.txt, and the top a README.txt.
        files = sorted(p for p in corpus.glob("*/*.txt") if p.stem.startswith(p.parent.name))
    if not files:
        sys.exit(f"no article files (*.jsonl, or livedoor *.txt) in {corpus}")
    return files


def read_texts(files: Iterable[Path]) -> Iterator[Text]:
    for path in files:
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    yield Text(record["title"], record["body"])
        else:
            lines = path.read_text(encoding="utf-8").split("\n")
            yield Text(lines[2].strip(), "\n".join(lines[3:]).strip())


def first_articles(corpus: Path, limit: int | None, scratch: Path) -> list[Path]:
    """Files holding the first ``limit`` articles of ``corpus`` (all of them with no limit).

    Whole files are used as they are; the part of a JSON Lines file that is
    needed is copied into ``scratch``.
    """
    files = corpus_files(corpus)
    if limit is None:
        return files
    chosen, left = [], limit
    for path in files:
        if left <= 0:
            break
        if path.suffix != ".jsonl":
            chosen.append(path)
            left -= 1
            continue
        with path.open(encoding="utf-8") as source:
            lines = source.readlines()
        if len(lines) <= left:
            chosen.append(path)
        else:
            scratch.mkdir(parents=True, exist_ok=True)
            part = scratch / f"first-{limit}-{path.name}"
            part.write_text("".join(lines[:left]), encoding="utf-8")
            chosen.append(part)
        left -= len(lines)
    if left > 0:
        sys.exit(f"{corpus} holds fewer than {limit:,} articles")
    return chosen


# The product, run as a user runs it.


@dataclass(frozen=True)
class Run:
    """One ``python -m indexer`` command: how long it took and its largest process."""

    seconds: float
    peak_mib: float
    output: str


def run_indexer(home: Path, *args: str) -> Run:
    """Run ``python -m indexer ARGS`` on the archive in ``home``; exit if it fails."""
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "indexer", *args], env=env, stdout=out, stderr=out
        )
        # wait4 reports the largest resident set of the command and of every
        # process it waited for (Whoosh's writer processes), not of this one.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if process.returncode != 0:
        sys.exit(f"python -m indexer {' '.join(args)} failed ({process.returncode}):\n{output}")
    return Run(seconds, usage.ru_maxrss / 1024, output)


def open_archive(home: Path) -> Any:
    """The :class:`~indexer.archive.Archive` in ``home`` (imported late: it loads Sudachi)."""
    from indexer.archive import Archive, Settings

    return Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))


def exported_articles(home: Path, scratch: Path) -> Iterator[dict[str, Any]]:
    """Every article of the archive in ``home``, as ``Archive.export`` writes it (in id order)."""
    export = scratch / "archive-export.jsonl"
    with export.open("w", encoding="utf-8") as out:
        open_archive(home).export(out)
    try:
        with export.open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)
    finally:
        export.unlink()


def add_home_arguments(parser: argparse.ArgumentParser) -> None:
    """``--home`` (the archive to serve) and ``--build-from`` (what to import into it when empty)."""
    parser.add_argument("--home", type=Path, required=True, help="the ARCHIVE_HOME to serve")
    parser.add_argument(
        "--build-from",
        type=Path,
        metavar="CORPUS",
        help="import this corpus first if home is empty",
    )


def ensure_built(home: Path, corpus: Path | None) -> None:
    """Import ``corpus`` into ``home`` unless it holds articles already; exit if neither."""
    if (home / "archive.db").exists() and open_archive(home).article_count() > 0:
        if corpus is not None:
            print(f"{home} already holds articles: --build-from ignored")
        return
    if corpus is None:
        sys.exit(
            f"no archive at {home}: pass --build-from CORPUS, "
            "or import one first (ARCHIVE_HOME=… python -m indexer import …)"
        )
    require(corpus, "the corpus")
    print(f"building {home} from {corpus} …", flush=True)
    run = run_indexer(home, "import", *map(str, corpus_files(corpus)))
    print(f"  imported in {run.seconds:.0f} s", flush=True)


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1_048_576


def index_mib(home: Path) -> float:
    """The size of the index generation in use (older ones may linger for one round)."""
    current = (home / "index" / "CURRENT").read_text(encoding="utf-8").strip()
    return folder_mib(home / "index" / current)


# The production server.


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``python -m archive serve`` over ``home`` on a free port, for a ``with`` block.

    ``peak_mib`` is the largest process (the server or a worker) once stopped.
    """

    def __init__(self, home: Path, *options: str, startup_seconds: float = 180) -> None:
        self.home = home
        self.options = options
        self.startup_seconds = startup_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.peak_mib = 0.0
        self._log = tempfile.NamedTemporaryFile(prefix="bench-serve-", suffix=".log", delete=False)
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, "ARCHIVE_HOME": str(self.home)}
        env.pop("ARCHIVE_DATABASE_URL", None)
        command = [sys.executable, "-m", "archive", "serve", "--host", "127.0.0.1"]
        self._process = subprocess.Popen(
            [*command, "--port", str(self.port), *self.options],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                sys.exit(f"the server exited with {self._process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            time.sleep(0.2)
        sys.exit(f"the server did not answer within {self.startup_seconds} s:\n{self.log()}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server process and its workers (Linux /proc)."""
        pid = self._process.pid
        pids = [pid]
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
        return sum(_cpu_seconds(p) for p in pids)

    def log(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")[-3000:]

    def __exit__(self, *_exc: object) -> None:
        process, self._process = self._process, None
        # Not reaped yet unless it exited while starting (poll() reaped it then).
        if process is not None and process.returncode is None:
            self._stop(process)
        self._log.close()
        os.unlink(self._log.name)

    def _stop(self, process: subprocess.Popen) -> None:
        """SIGTERM, as an init system stops a server; note its largest process's memory."""
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            pid, _, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                self.peak_mib = usage.ru_maxrss / 1024
                break
            time.sleep(0.1)
        else:
            process.kill()
            os.wait4(process.pid, 0)
        process.returncode = 0  # reaped here: Popen must not wait for it again


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0  # exited meanwhile
    # Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One HTTP/1.1 connection to the server, kept open between requests when it allows."""

    def __init__(self, url: str, timeout: float = 120) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes, float]:
        """Status, body and milliseconds from sending the request to the last byte."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request("GET", path)
                response = self.connection.getresponse()
                body = response.read()
                return response.status, body, (time.perf_counter() - started) * 1000
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle kept-alive connection: open a new one, once.
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def search(self, query: str, limit: int = 10) -> tuple[int, dict[str, Any], float]:
        status, body, ms = self.get("/api/search?" + urlencode({"q": query, "limit": limit}))
        return status, json.loads(body), ms

    def close(self) -> None:
        self.connection.close()


# Figures.


def load_note() -> str:
    """The machine's load, to print beside figures: other work on it slows everything."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (p50 is the median of an odd count); NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Spread:
    """Latencies in milliseconds: how many, the median, the 95th percentile and the worst."""

    n: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(
            len(values),
            percentile(values, 50),
            percentile(values, 95),
            max(values, default=math.nan),
        )


def cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (Japanese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table, its columns aligned in a terminal; numbers right-aligned."""
    values = [list(row) for row in rows]
    numeric = [
        bool(values) and all(isinstance(row[i], int | float) for row in values)
        for i in range(len(headers))
    ]
    cells = [list(headers)] + [[cell(v) for v in row] for row in values]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        padded = [
            " " * (w - _width(c)) + c if right else c + " " * (w - _width(c))
            for c, w, right in zip(row, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        "-" * (w - 1) + ":" if right else "-" * w for w, right in zip(widths, numeric, strict=True)
    ]
    return "\n".join([line(cells[0]), line(rule), *(line(row) for row in cells[1:])])
