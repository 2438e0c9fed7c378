"""``python -m indexer``: import, reindex, search and inspect the archive from a shell."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from indexer.analysis import analyze
from indexer.archive import Archive
from indexer.duplicates import near_duplicates
from indexer.errors import ArchiveError
from indexer.exporting import write_jsonl
from indexer.importing import ImportSummary, discover, import_files
from indexer.readers import FORMATS
from indexer.search import SORTS, SearchPage, parse_day
from indexer.store import article_record, get_article, get_articles, iter_articles


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def reports_errors(command: Callable) -> Callable:
    """Turn the library's errors into a message and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the indexer does.")
@click.version_option(package_name=None, version="0.1.0", prog_name="indexer")
def cli(verbose: bool) -> None:
    """Import Japanese articles, index them with Sudachi, and search them.

    The archive lives in ARCHIVE_HOME (default ./instance); set
    ARCHIVE_DATABASE_URL to keep the articles in another database.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # trafilatura logs a warning for every page it finds no text in; the import
    # summary already reports those pages, with their file names.
    logging.getLogger("trafilatura").setLevel(logging.INFO if verbose else logging.ERROR)


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Read every file as this format instead of detecting it per file.",
)
@reports_errors
def import_command(paths: tuple[Path, ...], fmt: str) -> None:
    """Import article files and folders (recursively) and index them.

    Files that cannot be read are listed with the reason; the rest are
    imported.  Exits with status 1 when any file or line failed.
    """
    archive = Archive()
    summary = ImportSummary()
    files = list(discover(paths, summary))
    with click.progressbar(
        length=len(files), label="Importing", file=sys.stderr, show_pos=True
    ) as bar:
        import_files(
            files, archive.engine, archive.index, fmt, summary, on_file=lambda _: bar.update(1)
        )
    _print_summary(summary)
    if not summary.ok:
        sys.exit(1)


def _print_summary(summary: ImportSummary) -> None:
    click.echo(
        f"{summary.files} files read: {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped, "
        f"{len(summary.failed)} failed"
    )
    if summary.changes:
        click.echo("Updated:")
        for article_id, path, changed in summary.changes:
            click.echo(f"  [{article_id}] {path}: {', '.join(changed)} changed")
    if summary.skipped:
        click.echo("Skipped (not article files):")
        for path in summary.skipped:
            click.echo(f"  {path}")
    if summary.failed:
        click.echo("Failed:")
        for error in summary.failed:
            click.echo(f"  {error}")


@cli.command()
@reports_errors
def reindex() -> None:
    """Rebuild the index from the database and switch searches to it at once."""
    archive = Archive()
    with click.progressbar(
        length=archive.article_count(), label="Indexing", file=sys.stderr, show_pos=True
    ) as bar:
        info = archive.reindex(on_progress=bar.update)
    click.echo(f"Indexed {info.documents} articles into {info.path}")


@cli.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--limit", default=10, show_default=True, help="Results per page (1–100).")
@click.option("--page", default=1, show_default=True, help="Which page of results.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Published on or after this day.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Published on or before this day.")
@reports_errors
def search(
    words: tuple[str, ...],
    as_json: bool,
    limit: int,
    page: int,
    sort: str,
    date_from: str | None,
    date_to: str | None,
) -> None:
    """Search the archive (syntax: words, "phrase", OR, -word, title:, site:)."""
    result = Archive().search.search(
        " ".join(words),
        page=page,
        page_size=limit,
        sort=sort,
        date_from=parse_day(date_from),
        date_to=parse_day(date_to),
    )
    if as_json:
        _echo_json(result.to_json())
    else:
        _print_page(result)


def _print_page(result: SearchPage) -> None:
    understood = "  ".join(
        ("-" if t.negated else "") + " | ".join(t.forms or ("∅",)) for t in result.terms
    )
    note = " (partial matches: no article has every word)" if result.partial else ""
    click.echo(
        f"{result.total} results{note}, page {result.page}/{result.pages} "
        f"({result.elapsed_ms:.0f} ms)  query: {understood}"
    )
    for hit in result.hits:
        date = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "----------"
        click.echo()
        click.echo(f"[{hit.id}] " + click.style(hit.title, bold=True))
        click.echo(f"     {hit.site or '-'}  {date}  {hit.url or ''}")
        snippet = "".join(
            click.style(text, fg="yellow", bold=True) if marked else text
            for text, marked in hit.snippet.parts
        )
        click.echo(f"     {snippet}")


@cli.command()
@click.argument("article_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@reports_errors
def show(article_id: int, as_json: bool) -> None:
    """Show one article with its metadata."""
    archive = Archive()
    with archive.session() as session:
        record = article_record(get_article(session, article_id))
    if as_json:
        _echo_json(record)
        return
    click.echo(click.style(record["title"], bold=True))
    for key in ("url", "site", "published_at", "agency", "author", "category"):
        if record[key]:
            click.echo(f"{key}: {record[key]}")
    for key in ("credit_sources", "tags", "captions"):
        if record[key]:
            click.echo(f"{key}: " + " / ".join(record[key]))
    click.echo()
    click.echo(record["body"])


@cli.command()
@click.argument("words", nargs=-1)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write to this file instead of standard output.",
)
@reports_errors
def export(words: tuple[str, ...], output) -> None:
    """Write the archive, or every result of a search for WORDS, as JSON Lines.

    The file imports back into the same articles: python -m indexer import FILE.jsonl
    """
    archive = Archive()
    with archive.session() as session:
        if words:
            articles = get_articles(session, archive.search.matching_ids(" ".join(words)))
        else:
            articles = iter_articles(session)
        count = write_jsonl(articles, output)
    click.echo(f"Exported {count} articles", err=True)


@cli.command()
@click.option(
    "--threshold",
    type=click.FloatRange(0.1, 1.0),
    default=0.8,
    show_default=True,
    help="How alike two bodies must be (Jaccard similarity of their character shingles).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
@reports_errors
def duplicates(threshold: float, as_json: bool) -> None:
    """List near-identical articles, such as one wire story carried by several sites."""
    archive = Archive()
    with archive.session() as session:
        titles: dict[int, tuple[str, str | None]] = {}

        def bodies():
            for article in iter_articles(session):
                titles[article.id] = (article.title, article.site)
                yield article.id, article.body

        pairs = near_duplicates(bodies(), threshold)
    if as_json:
        _echo_json(
            [{"similarity": round(p.similarity, 3), "ids": [p.first, p.second]} for p in pairs]
        )
        return
    click.echo(f"{len(pairs)} pairs of near-identical articles (similarity ≥ {threshold})")
    for pair in pairs:
        click.echo(f"{pair.similarity:.2f}")
        for article_id in (pair.first, pair.second):
            title, site = titles[article_id]
            click.echo(f"  [{article_id}] {title}  ({site or '-'})")


@cli.command()
@click.argument("ids", nargs=-1, required=True, type=int)
@reports_errors
def delete(ids: tuple[int, ...]) -> None:
    """Delete articles (by id) from the database and the index."""
    found = Archive().delete(list(ids))
    missing = sorted(set(ids) - set(found))
    click.echo(f"Deleted {len(found)} articles")
    if missing:
        click.echo("Not found: " + " ".join(map(str, missing)))
        sys.exit(1)


@cli.command("analyze")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
def analyze_command(text: str, as_json: bool) -> None:
    """Show the tokens the index stores for TEXT, and what TEXT becomes as a query."""
    stored = analyze(text)
    queried = analyze(text, query=True)
    if as_json:
        _echo_json(
            {
                "text": text,
                "index": [t.__dict__ for t in stored],
                "query": [t.__dict__ for t in queried],
            }
        )
        return
    for title, tokens in (("index", stored), ("query", queried)):
        click.echo(f"{title}:")
        click.echo(f"  {'pos':>4}  {'start':>5}  {'end':>5}  token  (text)")
        for t in tokens:
            click.echo(
                f"  {t.position:>4}  {t.start:>5}  {t.end:>5}  {t.text}  ({text[t.start : t.end]})"
            )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@reports_errors
def stats(as_json: bool) -> None:
    """Count the articles and describe the index."""
    figures = Archive().stats()
    data = {
        "articles": figures.articles,
        "undated": figures.undated,
        "oldest": figures.oldest.isoformat() if figures.oldest else None,
        "newest": figures.newest.isoformat() if figures.newest else None,
        "sites": dict(figures.sites),
        "database": figures.database,
        "index": {
            "path": str(figures.index.path),
            "documents": figures.index.documents,
            "bytes": figures.index_bytes,
            **figures.index.meta,
        }
        if figures.index
        else None,
    }
    if as_json:
        _echo_json(data)
        return
    click.echo(f"articles: {data['articles']} ({data['undated']} without a date)")
    if data["oldest"]:
        click.echo(f"published: {data['oldest'][:10]} … {data['newest'][:10]}")
    click.echo(f"database: {data['database']}")
    if figures.index:
        click.echo(
            f"index: {figures.index.documents} articles, {figures.index_bytes / 1_048_576:.1f} MiB, "
            f"{figures.index.meta.get('dictionary')}, analyzer {figures.index.meta.get('analyzer')}"
        )
        click.echo(f"       {figures.index.path}")
    else:
        click.echo("index: none or out of date (python -m indexer reindex)")
    click.echo("sites:")
    for site, count in figures.sites:
        click.echo(f"  {count:>6}  {site}")
