"""``python -m archive serve``: the web app on a production WSGI server (waitress)."""

from __future__ import annotations

import logging

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
    "--allowed-host",
    "allowed",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this name (repeatable).  On a loopback address only "
    "localhost, 127.0.0.1 and [::1] are answered otherwise; on any other address, any "
    "name unless this is given.",
)
def serve(host: str, port: int, threads: int, allowed: tuple[str, ...]) -> None:
    """Run the app with waitress until interrupted."""
    from waitress import serve as waitress_serve

    from archive import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    names = allowed_hosts(host, allowed)
    app = create_app({"ALLOWED_HOSTS": names})
    click.echo(f"記事アーカイブを http://{host}:{port}/ で公開しています（Ctrl+C で停止）")
    if names:
        click.echo(f"応答する名前: {'、'.join(names)}（ほかは --allowed-host NAME で追加）")
    waitress_serve(app, host=host, port=port, threads=threads)


def main() -> None:
    """The ``archive`` console script."""
    cli()
