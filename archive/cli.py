"""``python -m archive serve``: the web app on a production WSGI server (waitress)."""

from __future__ import annotations

import logging
import threading

import click

from archive.hosts import allowed_hosts

DEFAULT_THREADS = 4


@click.group()
def cli() -> None:
    """Serve the archive's search page and JSON API."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, help="Worker threads.")
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
def serve(
    host: str, port: int, threads: int, follow: bool, interval: float, allowed: tuple[str, ...]
) -> None:
    """Run the app with waitress until interrupted."""
    from waitress import serve as waitress_serve

    from archive import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    names = allowed_hosts(host, allowed)
    app = create_app({"ALLOWED_HOSTS": names})
    if follow:
        # One process serves and follows: the follower is a background thread
        # that writes the index the searches read (they see each commit).
        archive = app.extensions["archive"]
        stop = threading.Event()
        threading.Thread(
            target=archive.follow_forever, args=(interval, stop), name="follow", daemon=True
        ).start()
        click.echo(f"データベースの変更を{interval:g}秒ごとに索引へ反映します")
    click.echo(f"記事アーカイブを http://{host}:{port}/ で公開しています（Ctrl+C で停止）")
    if names:
        click.echo(f"応答する名前: {'、'.join(names)}（ほかは --allowed-host NAME で追加）")
    waitress_serve(app, host=host, port=port, threads=threads)


def main() -> None:
    """The ``archive`` console script."""
    cli()
