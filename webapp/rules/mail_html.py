"""A received mail's HTML made safe to show staff (issue 16 §4, SECURITY.md): nh3, a maintained
allow-list sanitiser, never a regex, decides what stays.

Kept: text formatting, lists, tables, quotes and links to web, mail and phone addresses (opened without
referrer). Gone: scripts, event handlers, styles (attributes and sheets: no CSS `url()` can load),
forms, frames, embedded objects, classes and ids. Images are never loaded: a remote image (a tracker,
often) and an inline `cid:` one are each replaced by a short note; the attachments list offers the
inline ones to download.
"""
import html
import re
from dataclasses import dataclass

import nh3

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "div", "dl", "dt", "em", "h1",
        "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"}
ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"},
              "th": {"colspan", "rowspan"}, "img": {"src"}}
LINK_SCHEMES = {"http", "https", "mailto", "tel"}
_IMAGE_MARK = "relance-blocked:"
_IMAGE = re.compile(r'<img(?: src="' + re.escape(_IMAGE_MARK) + r'(remote|inline)")?>')


@dataclass(frozen=True)
class SafeHtml:
    html: str               # sanitised: safe to put in a staff page as it is
    remote_images: int      # remote images that were not loaded
    inline_images: int      # cid: images (attachments of the mail), not shown


def _filter(counts: dict):
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        # No kept value holds a tag's brackets (a real address never does): the serialiser leaves them
        # as they are in attribute values, and the images are found below by their markup.
        if "<" in value or ">" in value:
            return None
        if tag == "img" and attribute == "src":
            kind = "inline" if value.lower().startswith("cid:") else "remote"
            counts[kind] += 1
            return _IMAGE_MARK + kind          # never a URL: the image is replaced below
        if attribute == "href" and value.lower().startswith("cid:"):
            return None
        return value
    return attribute_filter


def sanitise(source: str, notes: dict[str, str]) -> SafeHtml:
    """The mail's HTML with only the allowed tags and attributes; each image replaced by
    `notes["remote"]`, `notes["inline"]` or `notes["other"]` (escaped)."""
    counts = {"remote": 0, "inline": 0}
    cleaned = nh3.clean(source or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=LINK_SCHEMES | {"cid"},
                        attribute_filter=_filter(counts), link_rel="noopener noreferrer nofollow",
                        strip_comments=True, clean_content_tags={"script", "style"})

    def note(match: re.Match) -> str:
        text = notes.get(match.group(1) or "other", "")
        return f'<span class="mail-image-blocked">[{html.escape(text)}]</span>'
    return SafeHtml(_IMAGE.sub(note, cleaned), counts["remote"], counts["inline"])
