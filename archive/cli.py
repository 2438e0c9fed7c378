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

from archive.hosts import allowed_hosts, is_loopback

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

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    names = allowed_hosts(host, allowed)
    access = "private" if private or not (public or is_loopback(host)) else "open"
    if access == "private":
        _require_accounts()
    config = {"ALLOWED_HOSTS": names, "ACCESS": access, "HTTPS": https}
    how = (
        f"gunicorn、ワーカー {workers} 個"
        if server == "gunicorn"
        else f"waitress、{threads} スレッド"
    )
    click.echo(f"記事アーカイブを http://{host}:{port}/ で公開しています（{how}。Ctrl+C で停止）")
    if names:
        click.echo(f"応答する名前: {'、'.join(names)}（ほかは --allowed-host NAME で追加）")
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


def _require_accounts() -> None:
    """Refuse to start a private archive nobody could log in to."""
    from indexer.archive import Archive
    from indexer.errors import ArchiveError

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
