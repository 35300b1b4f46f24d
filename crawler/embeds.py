"""Embedded posts: a tweet, an Instagram, Facebook, Telegram, TikTok, Bluesky or Threads post that a story
quotes. Their words are the post's author's, not the outlet's: a `"White House"` rule must not fire on a
story because it embeds a White House tweet. They are taken out of the page before trafilatura reads it and
kept apart (``Article.embedded``): a reader still sees them with the story, the rules and search do not.

Found by what the platforms' embed codes leave in the page: the blockquote each one's script turns into a
post, which holds the post's text until it does (``twitter-tweet``, ``instagram-media``, ``tiktok-embed``,
Facebook's ``fb-xfbml-parse-ignore``...), and a blockquote whose link is a post's address (the fallback text of
an embed whose class the CMS dropped). An embed that is only a script or an iframe (Telegram's widget, a
tweet already rendered) holds no text in the page: nothing to take.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.boilerplate import drop_element
from newsmon.words import spelled_key

# The class names the platforms' embed codes put on the blockquote their script replaces with the post
# (Facebook's sits inside its "fb-post" div; on a link, its class is a like or share button's).
_EMBED_CLASS = re.compile(
    r"(?:^|\s)(?:twitter-tweet|twitter-video|instagram-media|tiktok-embed|fb-xfbml-parse-ignore"
    r"|reddit-card|reddit-embed-bq|bluesky-embed|text-post-media|telegram-post)(?:\s|$)"
)
# The address of one post, as an embed's fallback text links to it.
_POST_URL = re.compile(
    r"^https?://(?:(?:www|mobile)\.)?(?:(?:twitter|x)\.com/\w+/status(?:es)?/\d+|instagram\.com/(?:p|reel|tv)/"
    r"|t\.me/\w+/\d+|facebook\.com/.+/(?:posts|videos)/|tiktok\.com/@[\w.]+/video/|bsky\.app/profile/.+/post/"
    r"|threads\.net/@[\w.]+/post/)",
    re.IGNORECASE,
)
# A blockquote that links to a post but runs longer than this is the outlet's own text quoting it.
_MOST_POST_WORDS = 120


def take_embedded_posts(tree: HtmlElement, html: str | None = None) -> tuple[str, ...]:
    """Remove every embedded post from ``tree`` (in place); returns their texts, one line each, in page order
    (a post that shows no text, a video player say, is removed and not returned). ``html``, the markup the
    tree was parsed from, lets a page that embeds nothing be told at once."""
    if html is not None and "<blockquote" not in html and "<BLOCKQUOTE" not in html:
        return ()  # most pages: told from the markup, as text, faster than by walking the tree
    found: list[HtmlElement] = []
    for element in tree.iter("blockquote"):
        if _is_embed(element) and not any(ancestor in found for ancestor in element.iterancestors()):
            found.append(element)
    posts = []
    for element in found:
        text = " ".join(element.text_content().split())
        if text:
            posts.append(text)
        drop_element(element)
    return tuple(posts)


def without_posts(text: str, posts: tuple[str, ...]) -> str:
    """``text`` without the lines that repeat an embedded post (a JSON-LD ``articleBody`` that holds the
    posts' text, say)."""
    if not posts:
        return text
    folded = [spelled_key(post) for post in posts]
    kept = [line for line in text.splitlines()
            if not ((key := spelled_key(line)) and len(key) >= 12 and any(key in post for post in folded))]
    return "\n".join(kept).strip()


def _is_embed(blockquote: HtmlElement) -> bool:
    if _EMBED_CLASS.search(blockquote.get("class") or ""):
        return True
    if not any(_POST_URL.match(link.get("href") or "") for link in blockquote.iter("a")):
        return False
    return len(blockquote.text_content().split()) <= _MOST_POST_WORDS
