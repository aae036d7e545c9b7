"""The mail reader (webapp.mailreader): mail as a clinic in Dakar receives it, read as staff will see it.

The messages under tests/mail/ were written for these tests (Gmail, Outlook, iPhone, Yahoo, HTML only,
ISO-8859-1, undeclared 8-bit, an out-of-office reply, a bounce, a success report, a newsletter, a PDF).
"""
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from integrations.contract import Inbound
from webapp.mailreader import MailReading, read_mail
from webapp.mailreader.automated import classify
from webapp.mailreader.html import html_to_text
from webapp.mailreader.message import decode_bytes, parse, read_parts
from webapp.mailreader.quotes import split_reply
from webapp.models import Setting, database
from webapp.rules.phones import phones_in_text
from webapp.rules.qualification import DEFAULT_KEYWORDS, read_qualification

MAIL = Path(__file__).parent / "mail"
OUR_ID = "<relance.20251103101200.4f2a@clinique-nest.sn>"


def read(name: str, **kwargs) -> MailReading:
    return read_mail((MAIL / name).read_bytes(), **kwargs)


# --- the messages, as staff see them ------------------------------------------------------------------

def test_a_gmail_reply_keeps_what_she_wrote_and_her_signature_phone_not_the_quoted_clinic():
    mail = read("gmail_reply.eml")

    assert (mail.sender_name, mail.sender_address) == ("Awa Diop", "awa.diop@gmail.com")
    assert mail.new_text == ("Bonjour,\n\nJe souhaiterais prendre rendez-vous pour une consultation la semaine "
                             "prochaine, de préférence le matin.\n\nMerci d'avance,")
    assert "a écrit" not in mail.new_text and "Codou" in mail.text     # the history is only in the text
    assert mail.phones == ("+221771234567",)                           # from her signature, not our 33 820…
    assert mail.qualification == "appointment"
    assert mail.automated is None
    assert (mail.in_reply_to, mail.references) == (OUR_ID, (OUR_ID,))
    assert mail.html and "gmail_quote" in mail.html                    # raw: the display sanitises it


def test_an_outlook_reply_in_windows_1252_stops_at_the_french_header_block():
    mail = read("outlook_reply.eml")

    assert mail.new_text.startswith("Bonjour,\n\nQuel est le tarif d’une échographie de contrôle ?")
    assert mail.new_text.endswith("Bien à vous,\nMoussa Ndiaye")
    assert "Envoyé" not in mail.new_text and "____" not in mail.new_text
    assert mail.phones == ("+221765551234",)
    assert mail.qualification == "quote"
    assert mail.subject == "RE: Votre demande"


def test_an_iphone_reply_drops_envoye_de_mon_iphone_and_the_quote():
    mail = read("iphone_reply.eml")

    assert mail.new_text == "Oui je confirme pour mardi à 10h."
    assert mail.phones == ()
    assert mail.qualification is None               # "Re: Confirmation de votre rendez-vous" is our subject
    assert mail.in_reply_to == "<relance.20251103170000.77aa@clinique-nest.sn>"


def test_a_yahoo_reply_without_quote_marks_stops_at_the_mobile_signature():
    mail = read("yahoo_reply.eml")

    assert mail.new_text == "Bonjour, merci pour la brochure. Pouvez-vous aussi m'envoyer les tarifs ?"
    assert mail.qualification == "quote"            # prices are a stronger intent than documentation


def test_an_html_only_mail_in_base64_is_read_as_text_without_gmails_quote():
    mail = read("html_only.eml")

    assert mail.new_text == ("Bonjour,\n\nJe voudrais des informations sur le programme de suivi de grossesse."
                             "\n\nKhady Ba\n78 987 65 43")
    assert "33 820 12 12" in mail.text and "<p>" not in mail.text and "margin" not in mail.text
    assert mail.phones == ("+221789876543",)
    assert mail.qualification == "programme"


def test_an_iso_8859_1_request_has_its_accents_and_its_international_number():
    mail = read("latin1_request.eml")

    assert mail.subject == "Demande de devis pour une échographie"
    assert mail.sender_name == "Ndèye Faye"
    assert "Je souhaite connaître le prix d'une échographie pelvienne." in mail.new_text
    assert mail.phones == ("+221781234567",)        # written 00221 78 123 45 67
    assert mail.qualification == "quote"


def test_undeclared_8bit_headers_and_body_are_read_as_windows_1252():
    mail = read("undeclared_8bit.eml")

    assert mail.subject == "Réponse à votre appel"
    assert mail.sender_name == "Fatou Sène"
    assert mail.new_text.endswith("après 18h.\nFatou Sène")
    assert mail.phones == ("+221701112233",)


def test_an_out_of_office_reply_with_in_reply_to_and_no_auto_submitted_is_an_auto_reply():
    mail = read("out_of_office.eml")

    assert mail.automated == "auto_reply"
    assert mail.in_reply_to == "<relance.20251110075900.99cc@clinique-nest.sn>"   # routing would file it
    assert mail.subject == "Réponse automatique\u00a0: Votre demande de rendez-vous"
    assert mail.qualification is None


def test_a_bounce_names_the_recipient_that_failed():
    mail = read("bounce.eml")

    assert mail.automated == "bounce"
    assert mail.bounce_recipients == ("awa.diop@gmial.com",)
    assert mail.to_inbound().bounced == ("awa.diop@gmial.com",)


def test_a_successful_delivery_report_is_not_a_bounce():
    mail = read("delivery_success.eml")

    assert mail.automated == "delivery_report"
    assert mail.bounce_recipients == ()


def test_a_newsletter_is_recognised_by_its_list_headers():
    mail = read("newsletter.eml")

    assert mail.automated == "newsletter"
    assert mail.sender_name == "Orange Sénégal"
    assert "Profitez de la fibre" in mail.text


def test_a_pdf_attachment_is_listed_with_its_decoded_name_and_size():
    mail = read("pdf_attachment.eml")

    assert [(a.filename, a.content_type) for a in mail.attachments] == [("ordonnance décembre.pdf",
                                                                         "application/pdf")]
    assert mail.attachments[0].size == 77
    assert mail.new_text.startswith("Bonjour,\n\nVoici mon ordonnance en pièce jointe")
    assert "%PDF" not in mail.text


# --- the plugin contract and the JSON line --------------------------------------------------------------

def test_a_reading_becomes_the_contracts_inbound_fields():
    inbound = read("gmail_reply.eml").to_inbound()

    assert isinstance(inbound, Inbound)
    assert (inbound.channel, inbound.first_name, inbound.last_name) == ("email", "Awa", "Diop")
    assert (inbound.email, inbound.phone, inbound.request) == ("awa.diop@gmail.com", "+221771234567",
                                                               "Re: Votre demande")
    assert inbound.message.startswith("Bonjour,")
    assert inbound.message_id == "<CAJx8Q2Vb0rMz1Yk3@mail.gmail.com>"
    assert inbound.thread == (OUR_ID,)                  # In-Reply-To and References, each once
    assert (inbound.automated, inbound.bounced) == (None, ())
    assert Inbound.from_dict(json.loads(json.dumps(inbound.as_dict()))) == inbound


def test_the_json_line_has_exactly_the_mail_score_shape():
    line = read("pdf_attachment.eml").as_json("tests/mail/pdf_attachment.eml")

    assert list(line) == ["file", "subject", "from", "message_id", "in_reply_to", "automated",
                          "bounce_recipients", "text", "new_text", "phones", "qualification", "attachments"]
    assert line["from"] == {"name": "Ousmane Diallo", "address": "ousmane.diallo@gmail.com"}
    assert line["attachments"] == [{"filename": "ordonnance décembre.pdf", "content_type": "application/pdf"}]
    json.dumps(line)


def test_parse_mail_prints_one_json_line_per_file_in_order(runner):
    names = ["bounce.eml", "gmail_reply.eml", "out_of_office.eml"]

    result = runner.invoke(args=["parse-mail", "--json", *[str(MAIL / n) for n in names]])

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(line["file"]).name for line in lines] == names
    assert [line["automated"] for line in lines] == ["bounce", None, "auto_reply"]
    assert lines[0]["bounce_recipients"] == ["awa.diop@gmial.com"]
    assert lines[1]["phones"] == ["+221771234567"] and lines[1]["qualification"] == "appointment"


def test_parse_mail_without_json_prints_a_short_summary(runner):
    result = runner.invoke(args=["parse-mail", str(MAIL / "out_of_office.eml")])

    assert result.exit_code == 0
    assert "from:          Dr Aminata Sy <a.sy@hopital-principal.sn>" in result.output
    assert "automated:     auto_reply" in result.output


def test_parse_mail_reads_the_qualification_words_from_the_settings(app, runner):
    with app.app_context(), database.connection_context():
        Setting.replace(key="qualification_keywords",
                        value={"programme": ["ordonnance"], "appointment": ["visite"]}).execute()

    result = runner.invoke(args=["parse-mail", "--json", str(MAIL / "pdf_attachment.eml")])

    assert json.loads(result.output)["qualification"] == "programme"


def test_parse_mail_reads_phones_with_the_configured_region(app, runner, tmp_path):
    mail = tmp_path / "from_france.eml"
    mail.write_bytes(b"From: Awa <awa@orange.fr>\nSubject: RDV\n\nMon portable : 06 12 34 56 78\n")

    senegal = runner.invoke(args=["parse-mail", "--json", str(mail)])
    app.config["PHONE_REGION"] = "FR"
    france = runner.invoke(args=["parse-mail", "--json", str(mail)])

    assert json.loads(senegal.output)["phones"] == []               # no Senegalese number
    assert json.loads(france.output)["phones"] == ["+33612345678"]


def test_parse_mail_reports_an_unreadable_file_after_the_others(runner, tmp_path):
    result = runner.invoke(args=["parse-mail", "--json", str(tmp_path / "missing.eml"),
                                 str(MAIL / "bounce.eml")])

    assert result.exit_code == 1
    assert [json.loads(line)["automated"] for line in result.stdout.splitlines() if line.startswith("{")] == [
        None, "bounce"]


# --- the quote rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # Gmail, the attribution wrapped over three lines and >-quoted history.
    ("Merci, à jeudi.\n\nLe jeu. 6 nov. 2025 à 09:30, Clinique Nest Dakar <\naccueil@clinique-nest.sn>\n"
     "a écrit :\n\n> Bonjour,\n> votre rendez-vous est confirmé.", "Merci, à jeudi."),
    # The same, quoted itself (a reply to a reply).
    ("D'accord.\n\n> Le 6 nov. 2025 à 09:30, Awa <awa@gmail.com> a\n> écrit :\n>> Bonjour", "D'accord."),
    # A non-breaking space before the colon, no quote marks after.
    ("Oui.\n\nLe 2025-11-06 09:30, Clinique Nest a écrit\u00a0:\nBonjour Madame", "Oui."),
    # Outlook's French block with non-breaking spaces, Cc and Répondre à.
    ("Bien reçu.\n\nDe\u00a0: Clinique Nest <accueil@clinique-nest.sn>\nEnvoyé\u00a0: jeudi 6 novembre 2025\n"
     "À\u00a0: Awa Diop\nCc\u00a0: Codou\nObjet\u00a0: Rendez-vous\n\nBonjour", "Bien reçu."),
    ("Bien reçu.\n\n-----Message d'origine-----\nDe : Clinique Nest\nBonjour", "Bien reçu."),
    ("Pour info.\n\n-------- Message transféré --------\nSujet : Tarifs\nBonjour", "Pour info."),
    ("Voir ci-dessous.\n\nDébut du message réexpédié :\n\nDe: Clinique Nest", "Voir ci-dessous."),
    ("Je confirme.\n\nEnvoyé à partir de Outlook pour iOS\n________________________________\nDe : Clinique",
     "Je confirme."),
    ("Merci\n\nEnvoyé depuis mon smartphone Samsung Galaxy.", "Merci"),
    # Orange's webmail, unquoted.
    ("Je viendrai.\n\nMessage du 03/11/25 10:12\nDe : \"Clinique Nest\" <accueil@clinique-nest.sn>\n"
     "A : awa@orange.sn\nCopie à :\nObjet : RDV\n\nBonjour", "Je viendrai."),
    ("Merci\n-- \nAwa Diop\nComptable", "Merci"),
    # English forms.
    ("Thanks.\n\nOn Thu, Nov 6, 2025 at 9:30 AM Clinique Nest <accueil@clinique-nest.sn>\nwrote:\n> Hello",
     "Thanks."),
    ("Fine.\n\nFrom: Clinique Nest\nSent: Thursday, November 6, 2025 9:30 AM\nTo: Awa\nSubject: RDV\n\nHello",
     "Fine."),
    ("Fine.\n\n-----Original Message-----\nFrom: Clinique Nest", "Fine."),
    ("OK\n\nSent from my iPhone\n\n> On 6 Nov 2025, at 09:30, Clinique <a@b.sn> wrote:", "OK"),
    # A reply written below the quote keeps the reply.
    ("Le 6 nov. 2025 à 09:30, Clinique Nest <accueil@clinique-nest.sn> a écrit :\n> Quel jour ?\n\nMardi.",
     "Mardi."),
])
def test_quoted_history_and_signatures_are_not_new_text(text, expected):
    assert split_reply(text).new_text == expected


@pytest.mark.parametrize("text", [
    "Le docteur m'a dit de revenir dans un mois.\nLe traitement a bien marché.",
    "On m'a conseillé votre clinique.\nOn peut se voir mardi ?",
    "Nom : Awa Diop\nTéléphone : 77 123 45 67\nObjet : rendez-vous",
    "Le résultat de l'analyse a écrit : rien à signaler. Merci.",
    "Envoyé par ma fille qui m'aide avec l'ordinateur.",
    "Je suis disponible le mardi\nDe : 8h\nÀ : 12h\nMerci",
])
def test_a_persons_own_text_is_kept_whole(text):
    assert split_reply(text).new_text == text


@pytest.mark.parametrize("client, html", [
    ("Outlook on the web", '<div dir="ltr">Bonjour, je voudrais le devis.<br>Cordialement</div><hr>'
     '<div id="divRplyFwdMsg"><b>De&nbsp;:</b> Clinique Nest Dakar &lt;accueil@clinique-nest.sn&gt;<br>'
     '<b>Envoyé&nbsp;:</b> lundi 3 novembre 2025 10:12<br><b>À&nbsp;:</b> Moussa Ndiaye<br>'
     '<b>Objet&nbsp;:</b> Votre demande</div><div>Bonjour Monsieur, notre standard : 33 820 12 12.</div>'),
    ("Outlook for Windows", "<div class=WordSection1><p class=MsoNormal>Bonjour, je voudrais le devis.</p>"
     "<p class=MsoNormal>Cordialement</p><div style='border:none;border-top:solid #E1E1E1 1.0pt'>"
     "<p class=MsoNormal><b>De&nbsp;:</b> Clinique Nest Dakar<br><b>Envoy&eacute;&nbsp;:</b> lundi 3 novembre"
     "<br><b>&Agrave;&nbsp;:</b> Awa<br><b>Objet&nbsp;:</b> RDV</p></div><p>Bonjour Madame</p></div>"),
    ("Thunderbird", "<p>Bonjour, je voudrais le devis.<br>Cordialement</p><div class=\"moz-cite-prefix\">"
     "Le 03/11/2025 à 10:12, Clinique Nest Dakar a écrit&nbsp;:<br></div><blockquote type=\"cite\">Bonjour"
     "</blockquote>"),
    ("Apple Mail", "<div>Bonjour, je voudrais le devis.</div><div>Cordialement</div><div><blockquote type=cite>"
     "<div>Le 3 nov. 2025 à 10:12, Clinique Nest Dakar &lt;accueil@clinique-nest.sn&gt; a écrit :</div>"
     "<div>Bonjour</div></blockquote></div>"),
])
def test_html_replies_of_common_clients_lose_their_history(client, html):
    assert split_reply(html_to_text(html, mark_quotes=True)).new_text.split() == [
        "Bonjour,", "je", "voudrais", "le", "devis.", "Cordialement"]


def test_the_signature_is_kept_apart_for_its_phone():
    reply = split_reply("Rappelez-moi svp.\n-- \nAwa Diop\n77 123 45 67")

    assert (reply.new_text, reply.signature) == ("Rappelez-moi svp.", "--\nAwa Diop\n77 123 45 67")


# --- automated mail: the signals ----------------------------------------------------------------------------

def _headers(extra: str, subject: str = "Votre demande", sender: str = "awa@example.sn") -> bytes:
    return (f"From: {sender}\nTo: accueil@clinique-nest.sn\nSubject: {subject}\n{extra}"
            "Content-Type: text/plain; charset=utf-8\n\nBonjour\n").encode()


@pytest.mark.parametrize("raw, kind", [
    (_headers("Auto-Submitted: auto-replied\n"), "auto_reply"),
    (_headers("Auto-Submitted: auto-generated\n"), "auto_reply"),
    (_headers("Auto-Submitted: no\n"), None),
    (_headers("X-Autoreply: yes\n"), "auto_reply"),
    (_headers("X-Autorespond: Je suis absente\n"), "auto_reply"),
    (_headers("X-Apple-Action: VACATION\n"), "auto_reply"),
    (_headers("X-Auto-Response-Suppress: All\n"), "auto_reply"),
    (_headers("Return-Path: <>\n"), "auto_reply"),
    (_headers("", subject="Absence du bureau"), "auto_reply"),
    (_headers("", subject="Automatic reply: Your request"), "auto_reply"),
    (_headers("", subject="Out of office"), "auto_reply"),
    (_headers("Precedence: auto_reply\n"), "auto_reply"),
    (_headers("Precedence: bulk\n"), "newsletter"),
    (_headers("List-Id: <promo.example.sn>\n"), "newsletter"),
    (_headers("List-Unsubscribe: <mailto:stop@example.sn>\n"), "newsletter"),
    (_headers("", sender="no-reply@wave.com"), "newsletter"),
    (_headers("", subject="Undeliverable: Votre demande", sender="postmaster@outlook.fr"), "bounce"),
    (_headers("", subject="Message non remis", sender="MAILER-DAEMON@orange.sn"), "bounce"),
    (_headers("Return-Path: <>\n", subject="Delivery Status Notification (Failure)"), "bounce"),
    (_headers("Return-Path: <>\n", subject="Delivery Status Notification"), "bounce"),
    (_headers("", subject="Delivery Status Notification (Delay)", sender="mailer-daemon@googlemail.com"),
     "delivery_report"),
    (_headers("", subject="Delivery Status Notification (Failure)"), None),    # a person's words
    (_headers("", subject="Re: Absence de ma fille au rendez-vous"), None),
    (_headers("", subject="Re: Votre demande"), None),
])
def test_automated_mail_is_recognised_by_its_signals(raw, kind):
    assert read_mail(raw).automated == kind


def test_a_bounce_without_a_delivery_status_part_names_the_address_from_its_notice():
    raw = _headers("", subject="Mail delivery failed", sender="MAILER-DAEMON@mx.orange.sn").replace(
        b"Bonjour\n", b"Le message n'a pas pu etre remis a :\n  moussa.ndiaye@orange.sn\n")

    mail = read_mail(raw)

    assert (mail.automated, mail.bounce_recipients) == ("bounce", ("moussa.ndiaye@orange.sn",))


def test_a_feedback_report_is_a_complaint():
    raw = (b"From: fbl@orange.sn\nTo: accueil@clinique-nest.sn\nSubject: Signalement\n"
           b"Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n"
           b"--b\nContent-Type: text/plain\n\nPlainte\n--b\nContent-Type: message/feedback-report\n\n"
           b"Feedback-Type: abuse\nVersion: 1\n--b--\n")

    assert read_mail(raw).automated == "complaint"


def test_a_mail_carrying_a_forwarded_bounce_as_attachment_is_a_persons_mail():
    inner = (MAIL / "bounce.eml").read_bytes()
    raw = (b"From: Awa Diop <awa.diop@gmail.com>\nSubject: Votre mail m'est revenu\n"
           b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=utf-8\n\n"
           b"Bonjour, regardez ce message.\n--x\nContent-Type: message/rfc822\n"
           b"Content-Disposition: attachment; filename=retour.eml\n\n" + inner + b"\n--x--\n")

    mail = read_mail(raw)

    assert mail.automated is None and mail.new_text == "Bonjour, regardez ce message."
    assert [a.filename for a in mail.attachments] == ["retour.eml"]


@pytest.mark.parametrize("header, name, address", [
    ('"Diop, Awa" <Awa.Diop@Gmail.com>', "Diop, Awa", "awa.diop@gmail.com"),
    ("=?UTF-8?Q?Nd=C3=A8ye_Faye?= <ndeye@orange.sn>", "Ndèye Faye", "ndeye@orange.sn"),
    ("awa@orange.sn (Awa Diop)", "Awa Diop", "awa@orange.sn"),
    ("Awa Diop", "Awa Diop", ""),
    ("<>", "", ""),
])
def test_the_sender_is_read_from_the_forms_from_takes(header, name, address):
    mail = read_mail(f"From: {header}\nSubject: RDV\n\nBonjour\n".encode())

    assert (mail.sender_name, mail.sender_address) == (name, address)


# --- decoding -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, declared, expected", [
    ("Sénégal".encode("utf-8"), "iso-8859-1", "Sénégal"),          # declared Latin-1, really UTF-8
    ("Sénégal".encode("cp1252"), None, "Sénégal"),                 # undeclared 8-bit
    ("l’équipe".encode("cp1252"), "iso-8859-1", "l’équipe"),       # a 1252 quote in "Latin-1" mail
    ("Дакар".encode("cp1251"), "windows-1251", "Дакар"),
    ("Sénégal".encode("latin-1"), "x-unknown", "Sénégal"),
])
def test_bodies_are_decoded_whatever_the_charset_says(data, declared, expected):
    assert decode_bytes(data, declared) == expected


def test_html_becomes_text_with_quote_containers_marked():
    html = ('<div>Bonjour&nbsp;!<br>Merci</div><blockquote>Ancien<br>message</blockquote>'
            '<style>p{color:red}</style><div class="yahoo_quoted">Le 3 nov.</div>')

    assert html_to_text(html) == "Bonjour !\nMerci\n\nAncien\nmessage\n\nLe 3 nov."
    assert html_to_text(html, mark_quotes=True) == "Bonjour !\nMerci\n\n> Ancien\n> message\n\n> Le 3 nov."


def test_the_text_of_a_multipart_mail_prefers_the_plain_part():
    parts = read_parts(parse((MAIL / "gmail_reply.eml").read_bytes()))

    assert parts.plain.startswith("Bonjour,") and parts.html.startswith("<div")


# --- phones and qualification ------------------------------------------------------------------------------

def test_phones_are_found_in_the_forms_people_write_them():
    text = ("Appelez-moi au 77 123 45 67 ou au +221 76-555-12-34, sinon 00221 70 111 22 33, 781234567, "
            "(+33) 6 12 34 56 78. Rendez-vous le 12/11/2025 à 10:30, 150 000 FCFA.")

    assert phones_in_text(text, "SN") == ["+221771234567", "+221765551234", "+221701112233", "+221781234567",
                                          "+33612345678"]


def test_qualification_words_are_configurable():
    words = {"appointment": ["visite"], "quote": ["facture"]}

    assert read_qualification(None, "Je voudrais une visite", words) == "appointment"
    assert read_qualification(None, "La facture de la visite", {"quote": ["facture"], "appointment": ["visite"]}
                              ) == "appointment"                 # the seed's order, not the mapping's
    assert read_qualification(None, "Quel est le prix ?", words) is None
    assert read_qualification("quote", "", words) == "quote"
    assert read_qualification(None, "Je voudrais un rendez vous", DEFAULT_KEYWORDS) == "appointment"
    assert read_mail(_headers("", subject="Une visite"), keywords=words).qualification == "appointment"


# --- nothing crashes the reader --------------------------------------------------------------------------

FIXTURES = sorted(p.read_bytes() for p in MAIL.glob("*.eml"))


def _assert_reading(mail: MailReading) -> None:
    assert isinstance(mail, MailReading)
    json.dumps(mail.as_json("x"), ensure_ascii=False).encode("utf-8")    # no lone surrogates
    mail.to_inbound()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes_give_a_reading_not_an_exception(raw):
    _assert_reading(read_mail(raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXTURES), st.randoms(use_true_random=False),
       st.lists(st.binary(min_size=0, max_size=12), min_size=1, max_size=8))
def test_mutated_real_messages_give_a_reading_not_an_exception(raw, rng: random.Random, pieces):
    data = bytearray(raw)
    for piece in pieces:
        at = rng.randrange(len(data) + 1)
        cut = rng.randrange(0, 16)
        data[at:at + cut] = piece
    _assert_reading(read_mail(bytes(data)))


def test_structural_mutations_give_a_reading_not_an_exception():
    raw = (MAIL / "bounce.eml").read_bytes()
    broken = [
        b"",
        b"\n\n\n",
        raw[: len(raw) // 2],
        raw.replace(b"boundary=", b"boundary=\"\""),
        raw.replace(b"Content-Type: message/delivery-status", b"Content-Type: message/delivery-status; x=\xff"),
        b"Content-Type: multipart/mixed; boundary=a\n\n" + b"--a\nContent-Type: multipart/mixed; boundary=a\n\n" * 400,
        b"Subject: =?utf-8?b?####?= =?unknown?q?x?=\nFrom: \"\xff\xfe\" <@@>\n\n" + b"\xff" * 100,
        b"From: a@b.sn\nContent-Type: text/html\n\n" + b"<blockquote>" * 5000 + b"x",
        b"From: a@b.sn\nContent-Type: text/html\n\n" + b"<div></b>" * 20000,      # stray end tags
        b"From: a@b.sn\n\n" + b"Le " + b"x" * 100_000 + b" a \xc3\xa9crit :\n> y",
    ]
    for data in broken:
        _assert_reading(read_mail(data))
