"""Answer templates and threading as pure rules (issue 16 §5): placeholders filled, unknown ones refused,
every value escaped in the HTML part, In-Reply-To and References as RFC 5322 chains them."""
from datetime import datetime

import pytest

from webapp.rules.answers import (TemplateError, check_template, day_start, fill, over_daily_cap, reply_subject,
                                  template_key, text_to_html, threading)
from webapp.services.answer_defaults import ANSWER_TEMPLATES

VALUES = {"prenom": "Awa", "nom": "Diop", "demander": "demandez Codou au standard", "telephone": "33 800 00 00",
          "site": "https://www.nest.example.sn", "facebook": "https://www.facebook.com/nest.example.sn",
          "etablissement": "NEST", "adresse": "Dakar", "expediteur": "Fatou Diallo"}


def test_a_template_is_filled_with_the_persons_name_and_who_to_ask_for():
    text = fill("Bonjour {prenom} {nom}, appelez-nous : {demander}.", VALUES)
    assert text == "Bonjour Awa Diop, appelez-nous : demandez Codou au standard."


def test_a_missing_value_leaves_nothing_and_double_braces_write_a_brace():
    assert fill("{{prenom}} = {prenom}", {}) == "{prenom} = "


@pytest.mark.parametrize("template, names", [
    ("Bonjour {prénom}", ("prénom",)),
    ("{prenom.__class__}", ("prenom.__class__",)),
    ("{0} et {}", ("0", "")),
    ("{nom:>30}", ("nom:>30",)),
    ("{nom!r}", ("nom!r",)),
])
def test_unknown_placeholders_are_refused_with_their_names(template, names):
    with pytest.raises(TemplateError) as refused:
        check_template(template)
    assert refused.value.code == "unknown_placeholders" and refused.value.names == names


def test_a_lone_brace_is_refused():
    with pytest.raises(TemplateError) as refused:
        check_template("Bonjour {prenom")
    assert refused.value.code == "unbalanced_braces"


def test_values_are_escaped_in_the_html_part_and_links_stay_links():
    text = fill("Bonjour {prenom},\n\nSite : {site}", {**VALUES, "prenom": '<img src=x onerror="alert(1)">'})
    html = text_to_html(text)
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert '<a href="https://www.nest.example.sn">https://www.nest.example.sn</a>' in html


def test_a_link_cannot_carry_markup_out_of_its_attribute():
    html = text_to_html('https://x.example/"><script>alert(1)</script>')
    assert "<script>" not in html


@pytest.mark.parametrize("qualification", ["appointment", "quote", "programme", None])
def test_every_default_template_is_valid_and_ends_as_seed_000_asks(qualification):
    for temperature in ("hot", "warm", "cold"):
        template = ANSWER_TEMPLATES[template_key(qualification, temperature)]
        check_template(template["subject"])
        body = fill(template["body"], VALUES)
        if temperature == "cold":
            assert "https://www.nest.example.sn" in body and "https://www.facebook.com/nest.example.sn" in body
            assert "documentation commerciale" in body
        else:
            assert "vos coordonnées" in body and "rappellerons" in body and "documentation commerciale" in body
            assert "venir nous rencontrer" in body and "appeler directement" in body
            assert "demandez Codou au standard" in body


def test_an_answer_threads_on_the_mail_it_answers():
    # The parent answered <prev> (In-Reply-To) in a conversation started by <first> (References: first, prev):
    # the parser keeps In-Reply-To first, then the References not already there.
    answered = threading("abc@mail.gmail.com", ["<prev@clinic.sn>", "<first@clinic.sn>"])
    assert answered.in_reply_to == "<abc@mail.gmail.com>"
    assert answered.references == ("<first@clinic.sn>", "<prev@clinic.sn>", "<abc@mail.gmail.com>")


def test_an_answer_to_a_first_mail_refers_to_it_alone_and_no_mail_means_no_thread():
    assert threading("<abc@x>", []).references == ("<abc@x>",)
    assert threading("<abc@x>", ["<parent@x>"]).references == ("<parent@x>", "<abc@x>")
    assert threading(None, ["<parent@x>"]).in_reply_to is None


@pytest.mark.parametrize("subject, expected", [
    ("Demande de tarifs", "Re: Demande de tarifs"), ("RE: Demande", "RE: Demande"), ("  ", ""),
    ("Tr : suivi", "Tr : suivi"),
])
def test_the_subject_answers_the_mails_once(subject, expected):
    assert reply_subject(subject) == expected


def test_the_daily_cap_counts_from_midnight_in_dakar():
    assert day_start(datetime(2026, 12, 5, 10, 0), "Africa/Dakar") == datetime(2026, 12, 5, 0, 0)
    assert day_start(datetime(2026, 12, 5, 0, 30), "Europe/Paris") == datetime(2026, 12, 4, 23, 0)
    assert not over_daily_cap(2, 3) and over_daily_cap(3, 3) and over_daily_cap(0, 0)
