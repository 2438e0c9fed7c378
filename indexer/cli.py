"""``python -m indexer``: import, reindex, search and inspect the archive from a shell."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from indexer.archive import (
    FORMATS,
    READER,
    REINDEX_AFTER,
    ROLE_NAMES,
    ROLES,
    SORTS,
    Archive,
    DiskSpace,
    FollowResult,
    ImportSummary,
    SchemaStatus,
    SearchPage,
    Snippet,
    database_status,
    mebibytes,
    migration_history,
    upgrade_database,
)
from indexer.errors import ArchiveError


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def open_archive() -> Archive:
    """The archive of ARCHIVE_HOME, its connections closed when the command ends."""
    return click.get_current_context().with_resource(Archive())


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback ``(done, total)`` drawing a bar on stderr once the total is known."""
    with contextlib.ExitStack() as stack:
        bar = None

        def on_progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = stack.enter_context(
                    click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
                )
            bar.update(done - bar.pos)

        yield on_progress


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
        force=True,
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
    with progress("取り込み中") as on_progress:
        summary = open_archive().import_paths(paths, fmt, on_progress)
    _print_summary(summary)
    if not summary.ok:
        sys.exit(1)


def _print_summary(summary: ImportSummary) -> None:
    click.echo(
        f"{summary.files}件のファイルを読みました: 追加 {summary.added}、更新 {summary.updated}、"
        f"変更なし {summary.unchanged}、対象外 {len(summary.skipped)}、失敗 {len(summary.failed)}"
    )
    if summary.changes:
        click.echo("更新した記事:")
        for article_id, path, changed in summary.changes:
            click.echo(f"  [{article_id}] {path}: {', '.join(changed)} が変わりました")
    if summary.skipped:
        click.echo(
            "対象外（記事のファイルではありません。README・LICENSE・CHANGES・COPYING"
            "で始まる名前、隠しファイル、フォルダーの中の .txt .jsonl .html などでない"
            "ファイルは読みません）:"
        )
        for path in summary.skipped:
            click.echo(f"  {path}")
    if summary.failed:
        click.echo("失敗:")
        for error in summary.failed:
            click.echo(f"  {error}")


@cli.command()
@reports_errors
def reindex() -> None:
    """Rebuild the index from the database and switch searches to it at once."""
    archive = open_archive()
    total = archive.article_count()
    done = 0
    # The bar is drawn from the first article on: a reindex refused for want of
    # room says so alone.
    with progress("索引作成中") as on_progress:

        def indexed(count: int) -> None:
            nonlocal done
            done += count
            on_progress(done, total)

        info = archive.reindex(on_progress=indexed)
    click.echo(f"{info.documents}件の記事を索引にしました: {info.path}")


@cli.command()
@click.option("--repair", is_flag=True, help="Index or remove only what differs.")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@reports_errors
def check(repair: bool, as_json: bool) -> None:
    """Compare the index with the database; exit 0 only when they agree.

    Reports articles stored but not searchable, searchable but no longer
    stored, or searchable as an older version; --repair fixes just those.
    A missing, outdated or damaged index is reported with the command to
    rebuild it.  Also reports the free space where the index lives: whether
    it is full (searches then go on with the last index written), and
    whether a reindex would fit.
    """
    archive = open_archive()
    found = archive.check()
    space = archive.disk_space()
    repaired = archive.repair(found) if repair and not found.ok else None
    if as_json:
        _echo_json(
            {
                "ok": (repaired or found).ok,
                "articles": found.articles,
                "documents": found.documents,
                **{k: list(getattr(found, k)) for k in CHECKED},
                "repaired": repaired.ok if repaired else None,
                "disk": {
                    "path": str(space.path),
                    "free": space.free,
                    "full": space.full,
                    "short": space.short,
                    "pending_changes": space.pending,
                    "pending_needs": space.pending_needs,
                    "reindex_needs": space.rebuild_needs,
                },
            }
        )
    else:
        _print_space(space)
        click.echo(f"データベース: {found.articles}件、索引: {found.documents}件")
        for key, label in CHECKED.items():
            ids = getattr(found, key)
            if ids:
                shown = " ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
                click.echo(f"{label}: {len(ids)}件 ({shown})")
        if found.ok:
            click.echo("索引はデータベースと一致しています。")
        elif repaired is None:
            click.echo(
                "索引がデータベースと食い違っています。python -m indexer check --repair で直せます。"
            )
        elif repaired.ok:
            click.echo("食い違いを直しました。索引はデータベースと一致しています。")
        else:
            click.echo("直しきれませんでした。python -m indexer reindex で作り直してください。")
    if not (repaired or found).ok:
        sys.exit(1)


def _print_space(space: DiskSpace) -> None:
    click.echo(
        f"ディスク: {space.path} の空き {mebibytes(space.free)}"
        f"（索引の作り直しに必要な空きは約 {mebibytes(space.rebuild_needs)}: {space.rebuild_how}）"
    )
    waiting = f"変更{space.pending}件が索引に入っていません。" if space.pending else ""
    last = (
        f"検索は最後に書き終えた索引（{space.documents}件、変更 #{space.applied_seq} まで反映）"
        "で続けています。空きを作ってから python -m indexer follow --once を実行してください。"
    )
    if space.full:
        click.echo(f"ディスクの空きがありません。{waiting}{last}")
    elif space.short:
        click.echo(
            f"ディスクの空きが、索引に入っていない変更{space.pending}件には足りない見込みです"
            f"（約 {mebibytes(space.pending_needs)} 必要）。{last}"
        )
    if space.free < space.rebuild_needs:
        click.echo("この空きでは索引を作り直せません（python -m indexer reindex は始まりません）。")


# What check reports, and how it says it.
CHECKED = {
    "missing": "保存済みで検索できない記事",
    "extra": "削除済みなのに検索に出る記事",
    "stale": "古い版のまま検索に出る記事",
    "duplicated": "索引に重複している記事",
}


@cli.command("follow")
@click.option("--once", is_flag=True, help="Catch up once and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between rounds.",
)
@click.option(
    "--reindex-after",
    type=click.IntRange(min=0),
    default=REINDEX_AFTER,
    show_default=True,
    help="Rebuild the index instead when more changes than this are waiting.",
)
@reports_errors
def follow_command(once: bool, interval: float, reindex_after: int) -> None:
    """Keep this node's index up to date with the database others write to.

    Applies the articles added, updated and deleted (by any node) since the
    index last caught up; a node without an index, or too far behind, rebuilds
    it.  Runs until interrupted, or once with --once.
    """
    archive = open_archive()
    if once:
        _print_follow(archive.follow(reindex_after))
        return
    stop = threading.Event()
    click.echo(f"データベースの変更を{interval:g}秒ごとに索引へ反映します（Ctrl+C で停止）")

    def on_round(result: FollowResult | Exception) -> None:
        if isinstance(result, Exception):
            click.echo(f"反映できませんでした（次の回にもう一度試します）: {result}", err=True)
        elif result.changes or result.reindexed:
            _print_follow(result)

    try:
        archive.follow_forever(interval, stop, on_round, reindex_after)
    except KeyboardInterrupt:
        stop.set()


def _print_follow(result: FollowResult) -> None:
    if result.reindexed:
        click.echo(
            f"{result.reason}、索引を作り直しました: {result.reindexed.documents}件"
            f"（変更 #{result.seq} まで反映）"
        )
    elif result.changes:
        click.echo(
            f"変更{result.changes}件を索引に反映しました: 索引 {result.indexed}件、"
            f"削除 {result.removed}件（変更 #{result.seq} まで反映）"
        )
    else:
        click.echo(f"索引は最新です（変更 #{result.seq} まで反映）")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def backup(file: Path) -> None:
    """Copy the database to FILE (one SQLite file), consistent even while imports run.

    Restore it, here or on another machine, with: python -m indexer restore FILE
    """
    Archive.require_backups()
    count = open_archive().backup(file)
    click.echo(
        f"{count}件の記事を {file} にバックアップしました（戻すには python -m indexer restore {file}）"
    )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the articles already in ARCHIVE_HOME.")
@reports_errors
def restore(file: Path, force: bool) -> None:
    """Restore a backup made by `backup` into ARCHIVE_HOME and rebuild the index.

    An archive that already holds articles is replaced only with --force.
    """
    Archive.require_backups(action="バックアップから復元")
    with progress("索引作成中") as on_progress:
        count = open_archive().restore(file, force=force, on_progress=on_progress)
    click.echo(f"{file} から{count}件の記事を戻し、索引を作り直しました")


@cli.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--limit", default=10, show_default=True, help="Results per page (1–100).")
@click.option("--page", default=1, show_default=True, help="Which page of results.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Published on or after this day.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Published on or before this day.")
@click.option("--site", help="Only articles of this site (exactly; width and case aside).")
@click.option("--category", help="Only articles in this category.")
@click.option("--tag", help="Only articles with this tag.")
@click.option("--person", help="Only articles naming this person (岸田文雄).")
@click.option("--org", help="Only articles naming this organisation (自民党).")
@click.option("--place", help="Only articles naming this place (大阪).")
@click.option(
    "--group/--no-group",
    default=True,
    show_default=True,
    help="Show near-identical articles (one wire story on several sites) as one result.",
)
@reports_errors
def search(
    words: tuple[str, ...],
    as_json: bool,
    limit: int,
    page: int,
    sort: str,
    date_from: str | None,
    date_to: str | None,
    site: str | None,
    category: str | None,
    tag: str | None,
    person: str | None,
    org: str | None,
    place: str | None,
    group: bool,
) -> None:
    """Search the archive (syntax: words, "phrase", OR, -word, title:, site:, person:)."""
    result = open_archive().search(
        " ".join(words),
        page=page,
        page_size=limit,
        sort=sort,
        date_from=date_from,
        date_to=date_to,
        site=site,
        category=category,
        tag=tag,
        group=group,
        person=person,
        org=org,
        place=place,
    )
    if as_json:
        _echo_json(result.to_json())
    else:
        _print_page(result)


def _print_page(result: SearchPage) -> None:
    understood = "  ".join(
        ("-" if t.negated else "") + " | ".join(t.forms or ("∅",)) for t in result.terms
    )
    note = "（すべての語を含む記事はなく、一部の語に一致した記事です）" if result.partial else ""
    grouped = (
        f"（同じ内容の記事をまとめて{result.results}件）" if result.results != result.total else ""
    )
    click.echo(
        f"{result.total}件{grouped}{note} {result.page}/{result.pages}ページ "
        f"（{result.elapsed_ms:.0f} ms）  検索語の解釈: {understood}"
    )
    if result.incomplete:
        click.echo(result.incomplete)
    if result.suggestion:
        click.echo(f"もしかして: {result.suggestion}")
    for hit in result.hits:
        date = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "----------"
        click.echo()
        click.echo(f"[{hit.id}] " + click.style(hit.title, bold=True))
        click.echo(f"     {hit.site or '-'}  {date}  {hit.url or ''}")
        click.echo(f"     {_styled(hit.snippet)}")
        if hit.copy_count:
            listed = "、".join(f"[{c.id}] {c.site or '-'}" for c in hit.copies)
            more = (
                f" ほか{hit.copy_count - len(hit.copies)}件"
                if hit.copy_count > len(hit.copies)
                else ""
            )
            click.echo(f"     同じ内容の記事 {hit.copy_count}件: {listed}{more}")


@cli.command()
@click.argument("article_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@click.option("-q", "--query", help="Mark what this search matches in the article.")
@reports_errors
def show(article_id: int, as_json: bool, query: str | None) -> None:
    """Show one article with its metadata (with --query, its matches marked)."""
    archive = open_archive()
    article = archive.article(article_id)
    if as_json:
        _echo_json(article.to_json())
        return
    marker = archive.highlighter(query) if query else None
    click.echo(click.style(article.title, bold=True))
    for key, label in SHOWN_FIELDS.items():
        value = getattr(article, key)
        if isinstance(value, tuple):
            value = " / ".join(value)
        elif isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M")
        if value:
            click.echo(f"{label}: {value}")
    click.echo()
    for paragraph in article.body.split("\n"):
        click.echo(_styled(marker.whole(paragraph)) if marker else paragraph)


# The metadata ``show`` prints, with the labels the article page uses.
SHOWN_FIELDS = {
    "url": "元の記事",
    "site": "サイト",
    "published_at": "公開日時",
    "agency": "通信社",
    "author": "記者",
    "credit_sources": "情報源",
    "category": "カテゴリー",
    "tags": "タグ",
    "captions": "写真説明",
}


def _styled(snippet: Snippet) -> str:
    """A snippet for the terminal: the matches in bold yellow."""
    return "".join(
        click.style(text, fg="yellow", bold=True) if marked else text
        for text, marked in snippet.parts
    )


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
    count = open_archive().export(output, " ".join(words) or None)
    click.echo(f"{count}件の記事を書き出しました", err=True)


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
    matches = open_archive().duplicates(threshold)
    if as_json:
        _echo_json(
            [
                {"similarity": round(m.similarity, 3), "ids": [m.first.id, m.second.id]}
                for m in matches
            ]
        )
        return
    click.echo(f"よく似た記事の組: {len(matches)}組（類似度 {threshold} 以上）")
    for match in matches:
        click.echo(f"{match.similarity:.2f}")
        for article in (match.first, match.second):
            click.echo(f"  [{article.id}] {article.title}  ({article.site or '-'})")


@cli.command()
@click.argument("ids", nargs=-1, required=True, type=int)
@reports_errors
def delete(ids: tuple[int, ...]) -> None:
    """Delete articles (by id) from the database and the index."""
    found = open_archive().delete(list(ids))
    missing = sorted(set(ids) - set(found))
    click.echo(f"{len(found)}件の記事を削除しました")
    if missing:
        click.echo("見つからないID: " + " ".join(map(str, missing)))
        sys.exit(1)


@cli.command("analyze")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
def analyze_command(text: str, as_json: bool) -> None:
    """Show the tokens the index stores for TEXT, and what TEXT becomes as a query."""
    stored = Archive.analyze(text)
    queried = Archive.analyze(text, query=True)
    if as_json:
        _echo_json(
            {
                "text": text,
                "index": [t.__dict__ for t in stored],
                "query": [t.__dict__ for t in queried],
            }
        )
        return
    for title, tokens in (("索引に入る語", stored), ("検索語として", queried)):
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
    figures = open_archive().stats()
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
            "applied_seq": figures.index.applied_seq,
            **figures.index.meta,
        }
        if figures.index
        else None,
    }
    if as_json:
        _echo_json(data)
        return
    click.echo(f"記事: {data['articles']}件（日付なし {data['undated']}件）")
    if data["oldest"]:
        click.echo(f"公開日: {data['oldest'][:10]} 〜 {data['newest'][:10]}")
    click.echo(f"データベース: {data['database']}")
    if figures.index:
        click.echo(
            f"索引: {figures.index.documents}件、{figures.index_bytes / 1_048_576:.1f} MiB、"
            f"{figures.index.meta.get('dictionary')}、analyzer {figures.index.meta.get('analyzer')}、"
            f"変更 #{figures.index.applied_seq} まで反映"
        )
        click.echo(f"      {figures.index.path}")
    else:
        click.echo("索引: なし、または作り直しが必要です（python -m indexer reindex）")
    click.echo("サイト:")
    for site, count in figures.sites:
        click.echo(f"  {count:>6}  {site}")


@cli.command("copy-db")
@click.option("--to", "target", required=True, metavar="URL", help="The database to copy into.")
@click.option("--force", is_flag=True, help="Replace the articles the target already holds.")
@reports_errors
def copy_db(target: str, force: bool) -> None:
    """Copy the archive's database to another one (SQLite <-> PostgreSQL), ids kept.

    URL is an SQLAlchemy URL such as postgresql+psycopg://user:pass@host/db or
    sqlite:////path/archive.db.  The target must be empty unless --force.
    """
    archive = open_archive()
    with click.progressbar(
        length=archive.article_count(), label="コピー中", file=sys.stderr, show_pos=True
    ) as bar:
        result = archive.copy_to(target, force, on_progress=bar.update)
    click.echo(
        f"記事 {result.articles}件と変更履歴 {result.changes}件を {result.target} に"
        "コピーしました（IDと変更の番号はそのままです）。"
    )
    click.echo("次の手順:")
    click.echo(f"  ARCHIVE_DATABASE_URL={result.target} を設定して使ってください。")
    click.echo(
        "  この ARCHIVE_HOME の索引はそのまま使えます（同じIDと変更の番号を引き継ぎました）。"
    )
    click.echo(
        "  別の ARCHIVE_HOME で使うときは、そこで python -m indexer reindex を実行してください。"
    )


@cli.group()
def db() -> None:
    """Bring the database's schema up to date (migrations) and show its revision.

    An SQLite archive is upgraded when it is opened; a PostgreSQL database,
    which several nodes may share, only by `db upgrade`.
    """


def _revision(found: SchemaStatus) -> str:
    if found.pre_migration:
        return "マイグレーション導入前の形式（リビジョンなし）"
    return f"リビジョン {found.current}" if found.current else "空のデータベース"


@db.command()
@reports_errors
def upgrade() -> None:
    """Migrate the database to the newest revision (run once, after updating every node)."""
    before, after = upgrade_database()
    if before.current == after.current and not before.pre_migration:
        click.echo(f"データベースは最新です（リビジョン {after.current}）")
    else:
        click.echo(f"データベースを更新しました: {_revision(before)} → リビジョン {after.current}")


@db.command()
@reports_errors
def current() -> None:
    """Show the database's revision, and whether it is the newest."""
    found = database_status()
    if found.up_to_date:
        click.echo(f"{_revision(found)}（最新）")
    else:
        click.echo(
            f"{_revision(found)}（最新は {found.head}: python -m indexer db upgrade で更新できます）"
        )


@db.command()
@reports_errors
def history() -> None:
    """List the schema's revisions, oldest first, marking the database's."""
    found = database_status()
    for revision in migration_history():
        mark = "*" if revision.id == found.current else " "
        title = revision.message.splitlines()[0] if revision.message else ""
        click.echo(f"{mark} {revision.id}  {title}")


@cli.group()
def users() -> None:
    """Accounts for the web app: add, list, remove, change a password or a role.

    Roles: reader (search and read), editor (also add, edit and delete
    articles), admin (also see the accounts and the history of the archive).
    """


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("パスワード", hide_input=True, confirmation_prompt="もう一度")


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default=READER, show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@reports_errors
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Add a user (the password is asked for, or read with --password-stdin)."""
    account = open_archive().add_user(name, _password(password_stdin), role)
    click.echo(
        f"ユーザー「{account.name}」（{ROLE_NAMES[account.role]}: {account.role}）を追加しました"
    )


@users.command("list")
@reports_errors
def users_list() -> None:
    """List the users and their roles."""
    found = open_archive().users()
    if not found:
        click.echo("ユーザーはいません（python -m indexer users add NAME --role admin で追加）")
    for account in found:
        click.echo(f"{account.name}\t{account.role}\t{_when(account.created_at)}")


@users.command("remove")
@click.argument("name")
@reports_errors
def users_remove(name: str) -> None:
    """Remove a user (their sessions, feed URLs and saved searches go with them)."""
    open_archive().remove_user(name)
    click.echo(f"ユーザー「{name}」を削除しました")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@reports_errors
def users_passwd(name: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions signed in with the old one end."""
    open_archive().set_password(name, _password(password_stdin))
    click.echo(
        f"ユーザー「{name}」のパスワードを変更しました（ログイン中のセッションは終了します）"
    )


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@reports_errors
def users_role(name: str, role: str) -> None:
    """Change a user's role."""
    account = open_archive().set_role(name, role)
    click.echo(f"ユーザー「{account.name}」の役割を {account.role} にしました")


@cli.group()
def tokens() -> None:
    """API tokens for scripts (sent as `Authorization: Bearer TOKEN`)."""


@tokens.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default=READER, show_default=True)
@reports_errors
def tokens_create(name: str, role: str) -> None:
    """Make a token and print it (this once: only its hash is kept)."""
    info, token = open_archive().create_token(name, role)
    click.echo(token)
    click.echo(
        f"トークン「{info.name}」（{info.role}）を作りました。表示はこの一度だけです。"
        "Authorization: Bearer TOKEN で送ってください。",
        err=True,
    )


@tokens.command("list")
@reports_errors
def tokens_list() -> None:
    """List the tokens (never the tokens themselves)."""
    found = open_archive().tokens()
    if not found:
        click.echo("トークンはありません（python -m indexer tokens create NAME --role editor）")
    for info in found:
        state = f"取り消し済み {_when(info.revoked_at)}" if info.revoked_at else "有効"
        click.echo(f"{info.name}\t{info.role}\t{_when(info.created_at)}\t{state}")


@tokens.command("revoke")
@click.argument("name")
@reports_errors
def tokens_revoke(name: str) -> None:
    """Revoke a token: requests with it are refused from now on."""
    open_archive().revoke_token(name)
    click.echo(f"トークン「{name}」を取り消しました")


def main() -> None:
    """The ``indexer`` console script."""
    cli()
