"""Editing config.yaml in place: appending a source while the user's comments and layout stay as they were."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from io import StringIO
from pathlib import Path
from typing import Any

import yaml

from newsmon.config_load import Check, load_config
from newsmon.errors import ConfigError, NewsmonError, one_line


def write_source(path: Path, entry: Mapping[str, str], checks: Sequence[Check] = ()) -> None:
    """Append ``entry`` to the sources of the config file, keeping its comments and layout.

    The new file is written beside the old one and validated (``load_config``) before it replaces it: a config
    that would not validate is not written.

    Raises:
        NewsmonError: the file cannot be read, edited or written, or would not validate with the source.
    """
    target = path.resolve()
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsmonError(f"cannot read {path}: {one_line(exc)}") from exc
    edited = with_source(text, entry)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(edited)
        try:
            load_config(temporary, environ=os.environ, checks=checks)
        except ConfigError as exc:
            raise NewsmonError(f"not added: the config would not validate: {'; '.join(exc.problems)}") from None
        os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except OSError as exc:
        raise NewsmonError(f"cannot write {path}: {one_line(exc)}") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def with_source(text: str, entry: Mapping[str, str]) -> str:
    """The config text with ``entry`` appended to its ``sources`` list (created if absent), every other line
    as it was.

    ruamel.yaml edits the document round-trip, with the indentation that reproduces the file best; the new
    lines it emits are then spliced into the original text, so a line ruamel.yaml would reformat stays as the
    user wrote it. If the splice does not read back as the edited document, ruamel.yaml's output is taken.

    Raises:
        NewsmonError: the text is not YAML ruamel.yaml can read, or its top level or ``sources`` is of the
            wrong type.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    try:
        round_trip = _round_trip(text)
        document = round_trip.load(text)
    except YAMLError as exc:
        raise NewsmonError(f"cannot edit the config: {one_line(exc)}") from exc
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise NewsmonError("cannot edit the config: its top level is not a mapping")
    item = CommentedMap(entry)
    sources = document.get("sources")
    if sources is None:
        document["sources"] = CommentedSeq([item])
    elif isinstance(sources, CommentedSeq):
        if sources:
            _move_trailing_comment(sources[-1], item)
        sources.fa.set_block_style()
        sources.append(item)
    else:
        raise NewsmonError("cannot edit the config: sources is not a list")
    out = StringIO()
    round_trip.dump(document, out)
    dumped = out.getvalue()
    spliced = _splice(text, dumped)
    result = spliced if yaml.safe_load(spliced) == yaml.safe_load(dumped) else dumped
    return result.replace("\n", newline) if newline != "\n" else result


def _round_trip(text: str) -> Any:
    """A round-trip YAML instance whose indentation reproduces ``text`` best (2-space mappings with the dash
    indented, 4-space mappings, ...): ruamel.yaml does not keep a file's indentation by itself."""
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, seq_guess, offset_guess = load_yaml_guess_indent(text)  # a guess at the lists' indentation: tried first
    guessed = [(m, seq_guess, offset_guess) for m in (2, 4, seq_guess)] if seq_guess and offset_guess is not None \
        else []
    grid = [(m, o + s, o) for m in (2, 4, 3) for o in range(m + 1) for s in (2, 4, 3)]
    best: tuple[int, Any] | None = None
    for mapping, sequence, offset in dict.fromkeys(t for t in guessed + grid if t[1] >= t[2] + 2):
        candidate = YAML()
        candidate.preserve_quotes = True
        candidate.width = 4096  # never fold a long line (a rule's query) the user kept on one line
        candidate.indent(mapping=mapping, sequence=sequence, offset=offset)
        out = StringIO()
        candidate.dump(candidate.load(text), out)
        changed = _changed_lines(text, out.getvalue())
        if best is None or changed < best[0]:
            best = (changed, candidate)
        if changed <= len(text.splitlines()) // 100:
            break  # near enough (a flow {} after comments moves, say): the splice keeps the user's lines anyway
    assert best is not None
    return best[1]


def _changed_lines(before: str, after: str) -> int:
    matcher = SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _splice(original: str, dumped: str) -> str:
    """``original`` with the lines ``dumped`` inserts, and none of the lines it changed or dropped."""
    before, after = original.splitlines(keepends=True), dumped.splitlines(keepends=True)
    lines: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        lines += after[j1:j2] if tag == "insert" else before[i1:i2]
    return "".join(lines)


def _move_trailing_comment(last: Any, item: Any) -> None:
    """Give the new last source the blank lines and comments that followed the old last one.

    ruamel.yaml keeps what follows a list (a blank line, ``# Channels`` before the next key) on its last
    entry, so an appended entry would land below it. Comments indented under the list stay where they are (a
    source commented out, say); from the first blank line or unindented comment on, they move.
    """
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = _trailing_comment_slot(last)
    if slot is None or not item:
        return
    holder, index = slot
    token = holder[index]
    value = str(token.value)
    end_of_line, _, rest = value.partition("\n")
    lines = rest.splitlines(keepends=True)
    keep = 0
    while keep < len(lines) and lines[keep].strip() and lines[keep][:1] in (" ", "\t"):
        keep += 1
    moved = "".join(lines[keep:])
    if not moved:
        return
    token.value = end_of_line + "\n" + "".join(lines[:keep])
    item.ca.items[list(item)[-1]] = [None, None, CommentToken("\n" + moved, CommentMark(0), None), None]


def _trailing_comment_slot(node: Any) -> tuple[list[Any], int] | None:
    """Where ruamel.yaml keeps the comment after ``node``: on its last key or item, the deepest one that has one."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    while True:
        if isinstance(node, CommentedMap) and node:
            key = list(node)[-1]
            entry = node.ca.items.get(key)
            if entry and len(entry) > 2 and entry[2] is not None:
                return entry, 2
            node = node[key]
        elif isinstance(node, CommentedSeq) and node:
            entry = node.ca.items.get(len(node) - 1)
            if entry and entry[0] is not None:
                return entry, 0
            node = node[-1]
        else:
            return None
