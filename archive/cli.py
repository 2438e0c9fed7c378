"""``python -m archive serve``: the web app on a production WSGI server.

One process (waitress, with threads) by default; ``--workers N`` runs N
gunicorn worker processes instead, to search on N cores at once.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading

import click

from archive.hosts import (
    allowed_hosts,
    default_public_url,
    is_loopback,
    public_host,
    public_url,
)
from indexer.archive import search_budget
from indexer.errors import ArchiveError

DEFAULT_THREADS = 4
SERVERS = ("auto", "waitress", "gunicorn")


@click.group()
def cli() -> None:
    """Serve the archive's search page and JSON API."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes answering requests (gunicorn when more than 1); one per core.",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    help="Threads of the single waitress process.",
)
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    default="auto",
    show_default=True,
    help="auto: waitress for one worker, gunicorn (Linux/Unix) for more.",
)
@click.option(
    "--access-log",
    metavar="FILE",
    help="gunicorn: log every request (with the worker's pid) to FILE, '-' for the terminal.",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Also keep the index up to date with the database (a search node sharing it).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="With --follow: seconds between catching up.",
)
@click.option(
    "--allowed-host",
    "allowed",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this name (repeatable).  On a loopback address only "
    "localhost, 127.0.0.1 and [::1] are answered otherwise; on any other address, any "
    "name unless this is given.",
)
@click.option(
    "--public-url",
    "public_url_given",
    envvar="ARCHIVE_PUBLIC_URL",
    metavar="URL",
    help="The address readers use (https://archive.example): feeds and absolute links "
    "start with it, never with the Host a request names; https also sends HSTS.  "
    "Default: http://HOST:PORT (on 0.0.0.0, the first --allowed-host, else this "
    "machine's name).  Env: ARCHIVE_PUBLIC_URL.",
)
@click.option(
    "--search-budget",
    "budget",
    callback=lambda _ctx, _param, value: _budget(value),
    envvar="ARCHIVE_SEARCH_BUDGET_MS",
    metavar="MS",
    help="How long one search may take, in milliseconds (default 250; 0: no limit).  "
    "Past it a search answers with what it has, marked incomplete.  "
    "Env: ARCHIVE_SEARCH_BUDGET_MS.",
)
@click.option(
    "--public",
    is_flag=True,
    help="On an address other than loopback: let anyone read, without logging in "
    "(read-only; editors still log in).",
)
@click.option(
    "--private",
    is_flag=True,
    help="On a loopback address too: nothing but the login page without logging in.",
)
@click.option(
    "--https",
    is_flag=True,
    help="Served behind an HTTPS reverse proxy: secure cookies, and the proxy's "
    "X-Forwarded-Proto/-For/-Host are believed.",
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    server: str,
    access_log: str | None,
    follow: bool,
    interval: float,
    allowed: tuple[str, ...],
    public_url_given: str | None,
    budget: float | None,
    public: bool,
    private: bool,
    https: bool,
) -> None:
    """Run the app until interrupted (Ctrl+C or SIGTERM).

    On a loopback address (this machine only) anyone here may read without
    logging in; on any other address, only people with an account (made with
    `indexer users add`), unless --public.
    """
    if public and private:
        raise click.UsageError("--public と --private は一緒に使えません。")
    if server == "auto":
        server = "gunicorn" if workers > 1 else "waitress"
    if server == "waitress" and workers > 1:
        raise click.UsageError("waitress は1プロセスで動きます。--workers 2 以上は gunicorn で。")
    if server == "waitress" and access_log:
        raise click.UsageError("--access-log は gunicorn（--server gunicorn）で使えます。")
    if server == "gunicorn" and sys.platform == "win32":
        raise click.UsageError("gunicorn は Windows では動きません。--workers 1 で waitress を。")

    try:
        names = allowed_hosts(host, allowed)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}。", param_hint="--allowed-host") from None
    given = public_url_given or default_public_url(host, port, allowed)
    try:
        address = public_url(given)
    except ValueError as exc:
        raise click.BadParameter(
            f"{exc}（{given}）。読者が使うアドレスを --public-url URL で指定してください。",
            param_hint="--public-url",
        ) from None

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    access = "private" if private or not (public or is_loopback(host)) else "open"
    if access == "private":
        _require_accounts()
    config = {"ALLOWED_HOSTS": names, "PUBLIC_URL": address, "ACCESS": access, "HTTPS": https}
    if budget is not None:
        config["ARCHIVE_SEARCH_BUDGET_MS"] = budget
    how = (
        f"gunicorn、ワーカー {workers} 個"
        if server == "gunicorn"
        else f"waitress、{threads} スレッド"
    )
    click.echo(f"記事アーカイブを http://{host}:{port}/ で公開しています（{how}。Ctrl+C で停止）")
    if names:
        # create_app answers to the public address's name too (a proxy passes it on).
        named = dict.fromkeys([*names, public_host(address)])
        click.echo(f"応答する名前: {'、'.join(named)}（ほかは --allowed-host NAME で追加）")
    click.echo(f"フィードとリンクのアドレス: {address}/（変えるには --public-url URL）")
    if access == "private":
        click.echo("ログインした人だけが使えます（アカウントは python -m indexer users add NAME）")
    else:
        click.echo("ログインなしで誰でも読めます（追加・編集はログインした編集者だけ）")
    if follow:
        click.echo(f"データベースの変更を{interval:g}秒ごとに索引へ反映します")
    if server == "gunicorn":
        from archive.prefork import PreforkServer

        # The workers are forked: the follower is a process of its own beside them.
        follower = _start_follower(interval) if follow else None
        try:
            PreforkServer(host, port, workers, access_log, config).run()
        finally:
            if follower is not None:
                follower.terminate()
                follower.wait(timeout=30)
    else:
        _serve_waitress(host, port, threads, config, interval if follow else None)


def _budget(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return search_budget(value)
    except ArchiveError as exc:
        raise click.BadParameter(str(exc)) from None


def _require_accounts() -> None:
    """Refuse to start a private archive nobody could log in to."""
    from indexer.archive import Archive

    try:
        with Archive() as archive:
            count = archive.user_count()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    if not count:
        raise click.ClickException(
            "ログインできるアカウントがひとつもありません。先に python -m indexer users add "
            "NAME --role admin でアカウントを作るか、誰でも読める公開にするなら --public を"
            "付けてください。"
        )


def _start_follower(interval: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "follow", "--interval", str(interval)],
        stdin=subprocess.DEVNULL,
    )


def _serve_waitress(
    host: str, port: int, threads: int, config: dict, follow_interval: float | None
) -> None:
    from waitress import serve as waitress_serve

    from archive import create_app

    app = create_app(config)
    if follow_interval is not None:
        # One process serves and follows: the follower is a background thread
        # that writes the index the searches read (they see each commit).
        archive = app.extensions["archive"]
        stop = threading.Event()
        threading.Thread(
            target=archive.follow_forever, args=(follow_interval, stop), name="follow", daemon=True
        ).start()
    # waitress closes its sockets on SystemExit or Ctrl+C; without this, SIGTERM
    # would kill it where it stands.
    signal.signal(signal.SIGTERM, _exit)
    waitress_serve(app, host=host, port=port, threads=threads)


def _exit(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def main() -> None:
    """The ``archive`` console script."""
    cli()
