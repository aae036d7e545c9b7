"""The demo's people and words: Senegalese names, what callers ask, notes in French (data only)."""

WOMEN = ["Awa", "Fatou", "Aïssatou", "Ndèye", "Mariama", "Khady", "Coumba", "Adama", "Rokhaya", "Sokhna",
         "Binta", "Oumou", "Astou", "Dieynaba", "Mame Diarra", "Ndèye Fatou", "Seynabou", "Marème",
         "Yacine", "Penda", "Maïmouna", "Fatoumata", "Bineta", "Ramatoulaye", "Safiétou", "Néné",
         "Khadidiatou", "Aminata", "Arame", "Thioro", "Marie-Thérèse", "Odile", "Eugénie", "Sophie"]
MEN = ["Moussa", "Mamadou", "Ibrahima", "Cheikh", "Abdoulaye", "Ousmane", "Pape", "Modou", "Serigne",
       "Babacar", "Aliou", "El Hadji", "Lamine", "Omar"]
LAST_NAMES = ["Diop", "Ndiaye", "Fall", "Sow", "Ba", "Gueye", "Sy", "Diallo", "Faye", "Mbaye", "Ndour",
              "Cissé", "Sarr", "Kane", "Thiam", "Seck", "Niang", "Diouf", "Mbodj", "Touré", "Camara",
              "Dieng", "Ndao", "Sène", "Wade", "Lô", "Kâ", "Mbengue", "Tall", "Dramé", "Badji", "Coly",
              "Mendy", "Gomis", "Sagna", "Guèye"]
ASKS = {
    "appointment": ["Souhaite un RDV pour suivi de grossesse", "Demande un RDV avec le gynécologue",
                    "Veut prendre RDV pour sa première échographie", "Souhaite un bilan de fertilité",
                    "Demande un RDV de suivi pour son bébé de 3 mois"],
    "quote": ["Demande les tarifs de l'échographie", "Demande un devis pour l'accouchement",
              "Veut le prix du forfait suivi de grossesse", "Demande une facture pro forma pour son IPM",
              "Demande si l'assurance prend en charge la consultation", "Demande les tarifs des vaccins"],
    "programme": ["Intéressée par le programme fertilité", "Demande des infos sur la préparation à "
                  "l'accouchement", "Intéressée par le programme suivi bébé 0-2 ans",
                  "Veut des infos sur les ateliers allaitement", "Intéressée par le programme post-partum"],
}
MALE_ASKS = ["Appelle pour le suivi de son fils", "Appelle pour sa femme enceinte, demande un RDV",
             "Demande les tarifs du suivi pédiatrique pour sa fille", "Appelle pour les vaccins de son bébé"]
QUALIFICATION_WEIGHTS = [("appointment", 5), ("quote", 3), ("programme", 2)]
TEMPERATURE_WEIGHTS = {"appointment": [("hot", 6), ("warm", 3), ("cold", 1)],
                       "quote": [("hot", 3), ("warm", 5), ("cold", 2)],
                       "programme": [("hot", 2), ("warm", 4), ("cold", 4)]}
CHANNEL_WEIGHTS = [("phone", 45), ("whatsapp", 15), ("facebook", 10), ("webform", 10), ("email", 8),
                   ("visit", 7), ("event", 5)]
TRIAGED = ("webform", "email", "facebook", "event")     # the lead's inbox; the secretaries take the rest
ORIGINS = {"facebook": ["Campagne Facebook mars", "Publication Facebook fête des mères", ""],
           "event": ["Salon de la femme 2026", "Journée portes ouvertes", "Forum santé de Dakar"],
           "webform": ["Site web — page fertilité", "Site web — page maternité", ""],
           "phone": ["", "", "Recommandée par une amie", "Panneau publicitaire VDN"],
           "visit": ["Journée portes ouvertes", ""], "whatsapp": ["", "Campagne Facebook mars"],
           "email": [""]}
FIRST_CODE = {"phone": "APL ENT", "visit": "VISITE", "whatsapp": "WA", "email": "MAIL"}
FURTHER_COUNT = [(0, 3), (1, 5), (2, 5), (3, 4), (4, 3), (5, 2), (6, 1), (7, 1), (8, 1)]
# A further interaction: (channel, direction, action codes), weight.
FURTHER = [(("phone", "out", ["APL", "APL", "RLC", "MSG", "CALL 2", "APL MSQ", "APL CLG"]), 45),
           (("phone", "in", ["APL ENT"]), 15), (("whatsapp", "out", ["WA"]), 12),
           (("whatsapp", "in", [None]), 6), (("sms", "out", ["SMS", "SMS INJ", "SMS FDJ"]), 6),
           (("email", "out", ["MAIL", "MAIL DEC", "MAIL INJ"]), 6), (("email", "in", [None]), 2),
           (("email", "out", ["DEVIS"]), 2), (("whatsapp", "out", ["DOC"]), 2),
           (("visit", "in", ["VISITE"]), 5), (("facebook", "in", [None]), 2), (("webform", "in", [None]), 1)]
NOTES = {
    ("phone", "out"): ["Pas de réponse, rappeler après 17h", "A confirmé son intérêt, réfléchit au devis",
                       "Rappeler après 17h", "Attend l'accord de son mari", "RDV fixé avec la sage-femme",
                       "Hésite à cause du prix, rappeler en fin de mois", "Souhaite décaler le RDV",
                       "Numéro occupé", "Demande qu'on la rappelle samedi matin"],
    ("phone", "in"): ["Rappelle pour confirmer le RDV", "Demande les horaires du samedi",
                      "Demande si on accepte son assurance", "Pose des questions sur la péridurale"],
    ("whatsapp", "out"): ["Envoi de la brochure du programme sur WhatsApp", "Envoi des tarifs par WhatsApp",
                          "Rappel du RDV de demain par WhatsApp"],
    ("whatsapp", "in"): ["Demande l'adresse de la clinique", "Demande les disponibilités de la sage-femme",
                         "Message vocal : veut savoir si le pédiatre consulte le samedi"],
    ("sms", "out"): ["SMS de rappel du RDV", "SMS : merci de nous rappeler au standard, demandez Codou"],
    ("email", "out"): ["Envoi du devis par mail", "Envoi de la documentation par mail",
                       "Mail de confirmation du RDV"],
    ("email", "in"): ["Répond au devis, demande une remise", "Demande le détail du forfait"],
    ("visit", "in"): ["Passée à l'accueil pour visiter la maternité",
                      "Visite avec son mari, a pris la documentation"],
    ("facebook", "in"): ["Message Facebook : redemande les tarifs",
                         "Commentaire sous la publication, demande des infos"],
    ("webform", "in"): ["Formulaire du site : demande à être rappelée"],
}
CODE_NOTES = {"MSG": "Messagerie, message laissé", "SMS INJ": "SMS : injoignable, merci de nous rappeler",
              "MAIL INJ": "Mail après plusieurs appels sans réponse",
              "APL MSQ": "Appel en numéro masqué, a décroché",
              "CALL 2": "Appel avant inscription : levée des objections sur le prix",
              "DEVIS": "Envoi du devis et des tarifs", "DOC": "Envoi de la brochure du programme"}
# Seed 001: the answer to a quote or programme request is the quote or the information itself.
ANSWER_CODES = {"quote": "DEVIS", "programme": "DOC"}
# The contact a rule follow-up was, when the demo's staff did it on its day.
RULE_NOTES = {"answer": "Réponse à sa question ; demandez Codou au standard",
              "hot_no_interaction_48h": "Appel : lui propose un RDV",
              "requalified_hot_48h": "Appel après requalification : lui propose un RDV",
              "warm_qualify": "Appel de qualification ; documentation à envoyer",
              "appointment_reminder": "Rappel du RDV de demain",
              "callback": "Rappel après l'envoi : des questions sur le devis ?", "call": "Appel"}
WARMER = ["A rappelé deux fois et demande un RDV", "A demandé le devis détaillé après la visite",
          "Requalifiée après l'atelier : veut commencer le programme", "A consulté les offres plusieurs fois"]
COOLER = ["Ne donne plus suite aux appels", "Projet reporté à l'année prochaine",
          "Pas de besoin immédiat, garder le contact", "Trouve les tarifs trop élevés pour l'instant"]
LOST_WEIGHTS = [("not_interested", 5), ("unreachable", 5), ("no_answer", 4), ("financing", 3),
                ("competition", 3), ("postponed", 2), ("project_cancelled", 1), ("wrong_number", 1),
                ("do_not_contact", 2)]
PATIENT_CALLS = ["Patiente : demande à avancer son RDV de contrôle",
                 "Patiente : demande ses résultats d'analyse", "Patiente : demande un certificat de grossesse",
                 "Appelle pour le RDV de vaccination du bébé"]
EMAIL_DOMAINS = ["gmail.com", "gmail.com", "gmail.com", "yahoo.fr", "hotmail.fr", "outlook.com", "orange.sn"]
MANUAL_COMMENTS = ["Rappeler après 17h", "Attend la paie du mois", "Envoyer la brochure et le lien du site"]
