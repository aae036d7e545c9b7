"""HTML mail as plain text, with the standard library's HTML parser (html2text is GPL: NOTES).

With `mark_quotes`, what mail clients put in quoting containers (a <blockquote>, Gmail's `gmail_quote`,
Yahoo's `yahoo_quoted`, Thunderbird's `moz-cite-prefix`…) comes out `>`-quoted, so that the text rules
of `quotes` find the quoted history of an HTML-only reply as they find it in a plain one.
"""
import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "br", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
           "blockquote", "pre", "section", "article", "header", "footer", "address", "dl", "dt", "dd",
           "center", "form", "fieldset", "figure", "main", "nav", "aside", "tbody", "thead", "tfoot"}
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "hr"}
_SKIPPED = {"style", "script", "head", "title", "template", "noscript", "xml", "svg"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "param", "source",
         "track", "wbr"}
# Containers that hold quoted history in the HTML of common clients (class or id, as a substring). Not
# Outlook's `divRplyFwdMsg`: it holds only the "De : … Objet :" block, and the history follows it
# unmarked; the header-block rule of `quotes` ends the new text there.
_QUOTE_MARKERS = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "zmail_extra",
                  "blockquote_container")
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b\u200e\u200f]+")
_MAX_OPEN = 300          # open elements tracked: deeper nesting is not mail a person wrote (and costs)


class _TextWriter(HTMLParser):
    def __init__(self, mark_quotes: bool):
        super().__init__(convert_charrefs=True)
        self.mark_quotes = mark_quotes
        self.lines: list[tuple[int, str]] = []     # (quote depth, text)
        self.current: list[str] = []
        self.current_depth = 0
        self.stack: list[tuple[str, bool]] = []     # (tag, opened a quote)
        self.open_tags: dict[str, int] = {}          # how many of each tag the stack holds
        self.depth = 0
        self.skipping = 0
        self.pre = 0

    # -- line building --
    def _newline(self, blank: bool = False, hard: bool = False) -> None:
        text = "".join(self.current)
        text = text if self.pre else text.strip()
        if text:
            self.lines.append((self.current_depth, text))
        elif hard and self.lines and self.lines[-1][1] != "":
            self.lines.append((self.depth, ""))      # <br><br>: a blank line
        self.current = []
        if blank and self.lines and self.lines[-1][1] != "":
            self.lines.append((self.depth, ""))

    def _write(self, text: str) -> None:
        if not self.current or not "".join(self.current).strip():
            self.current_depth = self.depth
        self.current.append(text)

    def _push(self, tag: str, opens_quote: bool) -> None:
        self.stack.append((tag, opens_quote))
        self.open_tags[tag] = self.open_tags.get(tag, 0) + 1

    # -- parser callbacks --
    def handle_starttag(self, tag, attrs):
        if "@" in tag:                   # an address written unescaped: <jane@example.com>
            self._write(f"<{tag}>")
            return
        if tag == "body" and "head" in self.open_tags:
            self.handle_endtag("head")   # a <head> never closed must not hide the body
        if tag in _SKIPPED:
            self.skipping += 1
            self._push(tag, False)
            return
        opens_quote = False
        if self.mark_quotes and tag not in _VOID:
            names = " ".join((value or "") for key, value in attrs if key in ("class", "id")).lower()
            opens_quote = tag == "blockquote" or any(marker in names for marker in _QUOTE_MARKERS)
        if tag in _BLOCKS:
            self._newline(blank=tag in _PARAGRAPHS, hard=tag == "br")
        if tag == "li":
            self._write("- ")
        if tag == "pre":
            self.pre += 1
        if tag not in _VOID and len(self.stack) < _MAX_OPEN:
            self._push(tag, opens_quote)
            if opens_quote:
                self.depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag not in self.open_tags:
            return                       # a stray end tag
        while self.stack:
            open_tag, opened_quote = self.stack.pop()
            self.open_tags[open_tag] -= 1
            if not self.open_tags[open_tag]:
                del self.open_tags[open_tag]
            if open_tag in _SKIPPED:
                self.skipping = max(0, self.skipping - 1)
            if opened_quote:
                self._newline()
                self.depth = max(0, self.depth - 1)
            if open_tag == "pre":
                self.pre = max(0, self.pre - 1)
            if open_tag == tag:
                break
        if tag in _BLOCKS:
            self._newline(blank=tag in _PARAGRAPHS)

    def handle_data(self, data):
        if self.skipping:
            return
        if self.pre:
            for number, piece in enumerate(data.split("\n")):
                if number:
                    self._newline()
                self._write(piece)
        else:
            self._write(_SPACES.sub(" ", data))

    def text(self) -> str:
        self._newline()
        out, previous_blank = [], True
        for depth, line in self.lines:
            line = line.replace("\u00a0", " ").rstrip()
            if not line:
                if not previous_blank:
                    out.append("")
                previous_blank = True
                continue
            out.append(("> " if depth and self.mark_quotes else "") + line)
            previous_blank = False
        return "\n".join(out).strip("\n")


def html_to_text(html: str, mark_quotes: bool = False) -> str:
    """The text a reader sees in this HTML: blocks on their own lines, paragraphs apart, no styles or
    scripts; with `mark_quotes`, quoted history `>`-quoted."""
    writer = _TextWriter(mark_quotes)
    try:
        writer.feed(html)
        writer.close()
    except Exception:                    # the parser gave up mid-way: keep what it read
        pass
    return writer.text()
