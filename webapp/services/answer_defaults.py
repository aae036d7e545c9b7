"""NEST's answer templates as first seeded (seed 000), in French: per qualification and temperature.

Every template ends as seed 000 asks. Hot and warm: "une incitation à prendre contact avec Nest en
invitant la personne à nous laisser ses coordonnées afin d'être rappelée et/ou que la documentation
commerciale lui soit envoyée [...] à se rendre dans nos structures et à nous appeler directement. Les
coordonnées doivent être données et personnalisées avec recommandation (ex : demandez Codou au
standard)". Cold: "une incitation à chercher plus d'informations sur Nest en donnant le lien du site
web et de la page Facebook [...] à laisser ses coordonnées (Tel / email) afin de recevoir la
documentation commerciale". The manager edits them in Paramètres > Modèles de réponse.
"""

# Seed 000's invitation, hot and warm prospects.
INVITATION = (
    "N'hésitez pas à nous laisser vos coordonnées (téléphone, e-mail) : nous vous rappellerons et/ou "
    "vous enverrons notre documentation commerciale. Vous pouvez aussi venir nous rencontrer à "
    "{etablissement} ({adresse}) ou nous appeler directement au {telephone} : {demander}."
)
# Seed 000's ending for cold prospects: the website, the Facebook page, and the documentation.
LINKS = (
    "Pour en savoir plus sur {etablissement}, consultez notre site web : {site}\n"
    "et notre page Facebook : {facebook}\n"
    "Laissez-nous vos coordonnées (téléphone / e-mail) pour recevoir notre documentation commerciale."
)

_GREETING = "Bonjour {prenom} {nom},"
_SIGNATURE = "Bien cordialement,\n{expediteur}\n{etablissement}"

# What the person asked for (seed 001's qualifications), then the general answer.
_SUBJECTS = {
    "appointment": "Votre demande de rendez-vous – {etablissement}",
    "quote": "Votre demande de devis – {etablissement}",
    "programme": "Notre programme d'accompagnement – {etablissement}",
    "general": "Votre demande – {etablissement}",
}
_ANSWERS = {
    "appointment": "Merci pour votre demande de rendez-vous. Nous serons heureux de vous recevoir : "
                   "indiquez-nous les jours et les heures qui vous conviennent, et nous vous proposerons "
                   "un créneau.",
    "quote": "Merci pour votre demande de devis. Nos tarifs dépendent de l'accompagnement choisi : nous "
             "vous préparons volontiers un devis adapté à votre situation.",
    "programme": "Merci de votre intérêt pour notre programme d'accompagnement (suivi de grossesse, suivi "
                 "de l'enfant, fertilité). Nous vous en présentons volontiers le contenu et le déroulement.",
    "general": "Merci pour votre message et pour l'intérêt que vous portez à {etablissement}. Nous "
               "répondons volontiers à votre question.",
}
# Hot: a real potential client, invited warmly; warm: practical questions; cold: met in a campaign.
_LEADS = {
    "hot": "Nous serions ravis de vous accompagner.",
    "warm": "Nous restons à votre disposition pour toute autre question pratique.",
    "cold": "",
}


def _body(qualification: str, temperature: str) -> str:
    ending = LINKS if temperature == "cold" else INVITATION
    middle = " ".join(p for p in (_ANSWERS[qualification], _LEADS[temperature]) if p)
    return "\n\n".join((_GREETING, middle, ending, _SIGNATURE))


ANSWER_TEMPLATES = {
    f"{qualification}:{temperature}": {"subject": _SUBJECTS[qualification], "body": _body(qualification, temperature)}
    for qualification in _SUBJECTS for temperature in ("hot", "warm", "cold")
}

# What fills the placeholders that are not the person's or the sender's (`{demander}`, `{site}`…).
# The addresses are examples to replace with the business's own in the settings.
ANSWER_DETAILS = {
    "demander": "demandez Codou au standard",
    "etablissement": "NEST",
    "telephone": "33 800 00 00",
    "adresse": "Dakar",
    "site": "https://www.nest.example.sn",
    "facebook": "https://www.facebook.com/nest.example.sn",
}
