#!/usr/bin/env python3
"""Writes a deterministic mbox (mboxrd) of synthetic customer-support mail for `Benchmarks/analyze.sh`.

Usage: make_mbox.py OUT N [--seed S]

N messages of about 3 KB each, German and English, put together from parts (subjects, sentences, greetings,
sign-offs, signatures, quoted earlier mail) with numbers, products and dates filled in: shop orders, delivery,
returns, passwords, accounts, invoices, Microsoft Office questions, complaints and general questions; some
multipart/alternative with HTML, a few with a small base64 attachment, some ISO-8859-1 quoted-printable; about
5% bounces (multipart/report) and auto-replies, a few mailing-list posts. Dates run through 2026 in order.
All text is written for this script. The file is written as it is made (nothing is held), and the same
N and seed give the same bytes. mboxrd: a body line matching ^>*From  gets one more ">".
"""
import argparse
import base64
import binascii
import random
import re
import sys
import time

YEAR_START = 1767225600  # 2026-01-01 00:00:00 UTC
YEAR_SECONDS = 365 * 86400
DST_START = 1774746000  # 2026-03-29 01:00 UTC: CEST from here
DST_END = 1792890000  # 2026-10-25 01:00 UTC: CET again
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]

# ---------------------------------------------------------------------------------------------------------
# People and places

FIRST_DE = ["Jürgen", "Björn", "Sören", "Jörg", "Günther", "Anna", "Katrin", "Heike", "Sabine", "Stefan", "Thomas",
            "Andreas", "Birgit", "Claudia", "Dieter", "Elke", "Frank", "Gabriele", "Hannes", "Ingrid", "Jana", "Klaus",
            "Lea", "Maximilian", "Nadine", "Ole", "Petra", "Ralf", "Susanne", "Till", "Ute", "Volker", "Wiebke",
            "Yvonne", "Zoë", "Mehmet", "Ayşe", "Lukas", "Marie", "Jonas", "Sophie", "Florian", "Lena", "Niklas"]
LAST_DE = ["Müller", "Schäfer", "Köhler", "Weiß", "Groß", "Krüger", "Schröder", "Hoffmann", "Becker", "Wagner",
           "Schulz", "Fischer", "Weber", "Meyer", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz",
           "Zimmermann", "Braun", "Hofmann", "Lange", "Böhm", "Jäger", "Vogel", "Friedrich", "Kaya", "Yılmaz",
           "Hartmann", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Busch", "Voß"]
FIRST_EN = ["Emma", "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Grace", "Leo",
            "Chloe", "Ethan", "Ruby", "Liam", "Sophia", "Daniel", "Olivia", "James", "Priya", "Rahul", "Wei", "Mei",
            "Sean", "Aoife", "Tomasz", "Kasia", "Lucas", "Hannah", "Samuel", "Zara", "Connor", "Ella", "Owen"]
LAST_EN = ["Smith", "Walker", "Patel", "O'Brien", "Nguyen", "Kowalski", "Taylor", "Brown", "Wilson", "Evans",
           "Thomas", "Roberts", "Johnson", "Wright", "Robinson", "Thompson", "Hughes", "Edwards", "Green", "Hall",
           "Wood", "Harris", "Clarke", "Jackson", "Turner", "Murphy", "Kelly", "Chen", "Singh", "Okafor", "Price"]
PRIVATE_DOMAINS = ["mail.example", "example.net", "example.org", "web.example", "posteo.example", "post.example",
                   "online.example", "inbox.example", "freemail.example", "mailbox.example"]
COMPANY_DOMAINS = ["schreinerei-krueger.example", "praxis-weber.example", "brightsoft.example", "northwind.example",
                   "kanzlei-hartmann.example", "autohaus-lorenz.example", "greenleaf-garden.example",
                   "baeckerei-vogel.example", "bluefin-consulting.example", "stadtwerke-musterstadt.example",
                   "hotel-seeblick.example", "harbour-logistics.example", "elbe-it.example", "pinecrest.example"]
AGENTS = ["Lena", "Tobias", "Sarah", "Mark", "Jana", "Felix", "Nina", "Paul"]
STREETS = ["Hauptstraße", "Lindenweg", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Am Mühlbach",
           "Kirchplatz", "Rosenstraße", "Birkenallee", "Talweg"]
CITIES_DE = [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
             ("04109", "Leipzig"), ("90402", "Nürnberg"), ("28195", "Bremen"), ("01067", "Dresden"),
             ("79098", "Freiburg"), ("24103", "Kiel"), ("33602", "Bielefeld"), ("97070", "Würzburg")]
CITIES_EN = ["Leeds", "Bristol", "Manchester", "Dublin", "Cork", "Glasgow", "Cardiff", "York", "Brighton", "Norwich"]
MAILERS = ["Mozilla Thunderbird", "Microsoft Outlook 16.0", "Apple Mail (2.3774)", "Roundcube Webmail",
           "K-9 Mail for Android", "Evolution 3.50", "Claws Mail 4.2", None, None, None]
PRODUCTS = [("wireless headphones", "Funkkopfhörer"), ("coffee machine", "Kaffeemaschine"),
            ("winter jacket", "Winterjacke"), ("desk lamp", "Schreibtischlampe"), ("running shoes", "Laufschuhe"),
            ("printer cartridges", "Druckerpatronen"), ("office chair", "Bürostuhl"), ("phone case", "Handyhülle"),
            ("kitchen scale", "Küchenwaage"), ("hiking backpack", "Wanderrucksack"), ("bed linen set", "Bettwäsche"),
            ("27 inch monitor", "27-Zoll-Monitor"), ("electric toothbrush", "elektrische Zahnbürste"),
            ("garden hose", "Gartenschlauch"), ("USB-C docking station", "USB-C-Dockingstation"),
            ("rain boots", "Gummistiefel"), ("baking tray set", "Backblech-Set"), ("keyboard", "Tastatur")]
APPS = ["Outlook", "Excel", "Word", "PowerPoint", "Teams", "OneDrive", "OneNote", "Access"]
OFFICE_VERSIONS = ["Microsoft 365", "Office 2021", "Office 2019", "Office 2016", "Microsoft 365 Business Standard"]
SYSTEMS = ["Windows 11", "Windows 10", "macOS 14", "macOS 15", "Windows 11 Pro"]
CARRIERS = ["DHL", "Hermes", "DPD", "GLS", "UPS"]

# ---------------------------------------------------------------------------------------------------------
# Text: per topic and language, subjects, openings, details and questions. {slots} are filled per message.

T = {}
T["order"] = {
    "en": {
        "subject": ["Order {order} status", "Where is my order {order}?", "Question about my order",
                    "Order {order} - no confirmation received", "Has my order been shipped?",
                    "Change delivery address for order {order}", "Order still shows as processing",
                    "Can I add an item to order {order}?", "Cancel order {order} please", "order {order}"],
        "open": ["I placed an order on {date} (order number {order}) and have not heard anything since.",
                 "On {date} I ordered the {product} from your shop, order number {order}.",
                 "My order {order} has been showing \"in progress\" in my account for {days} days now.",
                 "I ordered two items last week and only got a confirmation for one of them.",
                 "From the confirmation e-mail I can see that order {order} was received, but nothing else."],
        "detail": ["The payment was taken from my card straight away, so I assume the order went through.",
                   "I paid with PayPal and the amount of {amount} has already been debited.",
                   "The confirmation mentioned a delivery time of 2-3 working days, which has passed.",
                   "I would like to change the delivery address because I will be away that week.",
                   "If possible I would also like to add a second {product} to the same parcel.",
                   "My customer number is {customer}, in case that helps.",
                   "I need the item for a birthday on {date}, so timing matters a bit.",
                   "In the app the order does not show up at all, only on the website."],
        "ask": ["Could you tell me when it will be shipped?", "Can you please check what is going on?",
                "Is it still possible to cancel the order?", "Please let me know the current status.",
                "Could you confirm that the address was changed?", "When can I expect the delivery?"],
    },
    "de": {
        "subject": ["Bestellung {order}", "Wo bleibt meine Bestellung {order}?", "Frage zu meiner Bestellung",
                    "Keine Bestellbestätigung erhalten", "Status der Bestellung {order}",
                    "Lieferadresse ändern - Bestellung {order}", "Bestellung stornieren",
                    "Bestellung {order} noch nicht verschickt?", "Artikel nachträglich hinzufügen",
                    "Änderung meiner Bestellung"],
        "open": ["ich habe am {date} bei Ihnen bestellt (Bestellnummer {order}) und seitdem nichts mehr gehört.",
                 "am {date} habe ich den Artikel \"{product}\" bestellt, die Bestellnummer ist {order}.",
                 "meine Bestellung {order} steht in meinem Kundenkonto seit {days} Tagen auf \"in Bearbeitung\".",
                 "ich habe letzte Woche zwei Artikel bestellt, aber nur für einen eine Bestätigung bekommen.",
                 "laut Bestätigungsmail ist die Bestellung {order} bei Ihnen eingegangen, mehr weiß ich nicht."],
        "detail": ["Der Betrag von {amount} wurde bereits von meinem Konto abgebucht.",
                   "Ich habe per Vorkasse bezahlt, die Überweisung ging am {date} raus.",
                   "In der Bestätigung stand eine Lieferzeit von 2-3 Werktagen, die ist längst vorbei.",
                   "Ich möchte die Lieferadresse ändern, weil ich in der Woche nicht zu Hause bin.",
                   "Wenn möglich würde ich gern noch einen zweiten Artikel \"{product}\" dazubestellen.",
                   "Meine Kundennummer lautet {customer}.",
                   "Ich brauche die Sachen für einen Geburtstag am {date}, es ist also etwas eilig.",
                   "In der App taucht die Bestellung gar nicht auf, nur auf der Webseite."],
        "ask": ["Können Sie mir sagen, wann die Ware verschickt wird?", "Könnten Sie bitte nachsehen, was da los ist?",
                "Kann ich die Bestellung noch stornieren?", "Bitte teilen Sie mir den aktuellen Stand mit.",
                "Können Sie mir bestätigen, dass die Adresse geändert wurde?", "Wann kann ich mit der Lieferung rechnen?"],
    },
}
T["delivery"] = {
    "en": {
        "subject": ["Parcel not arrived", "Tracking number {tracking} not working", "Delivery delayed",
                    "Package marked as delivered but not received", "Damaged parcel", "Wrong item delivered",
                    "Delivery to a pick-up point?", "{carrier} says address unknown", "Missing item in my parcel"],
        "open": ["According to the tracking ({tracking}) my parcel was delivered on {date}, but I never received it.",
                 "The parcel for order {order} arrived today, but the box was badly dented and wet.",
                 "I was sent a {product} instead of the item I ordered.",
                 "The tracking link for {carrier} has shown the same status for {days} days.",
                 "From what I can see the parcel is stuck somewhere at the {carrier} depot."],
        "detail": ["I asked my neighbours and nobody took it in for me.",
                   "There was no card in the letterbox either.",
                   "The {product} inside has a crack on one side and does not switch on.",
                   "I have taken photos of the box and the contents and can send them to you.",
                   "Only one of the three items was in the parcel, the delivery note lists all three.",
                   "I live on the third floor and the driver apparently did not even ring.",
                   "The order number is {order} and the parcel number {tracking}."],
        "ask": ["What should I do now?", "Can you open an investigation with the carrier?",
                "Could you send a replacement?", "Can you please send the missing item?",
                "Is it possible to have it delivered to a pick-up point instead?"],
    },
    "de": {
        "subject": ["Paket nicht angekommen", "Sendungsnummer {tracking} funktioniert nicht", "Lieferung verspätet",
                    "Paket als zugestellt markiert, aber nicht erhalten", "Beschädigtes Paket", "Falscher Artikel geliefert",
                    "Lieferung an Packstation möglich?", "{carrier}: Empfänger unbekannt", "Artikel fehlt im Paket"],
        "open": ["laut Sendungsverfolgung ({tracking}) wurde mein Paket am {date} zugestellt, angekommen ist es aber nicht.",
                 "das Paket zur Bestellung {order} kam heute an, der Karton war allerdings stark eingedrückt und nass.",
                 "statt des bestellten Artikels wurde mir \"{product}\" geliefert.",
                 "die Sendungsverfolgung bei {carrier} zeigt seit {days} Tagen denselben Status.",
                 "das Paket hängt anscheinend irgendwo im Verteilzentrum von {carrier} fest."],
        "detail": ["Ich habe bei allen Nachbarn gefragt, niemand hat etwas angenommen.",
                   "Eine Benachrichtigungskarte lag auch nicht im Briefkasten.",
                   "Der Artikel \"{product}\" hat an einer Seite einen Sprung und lässt sich nicht einschalten.",
                   "Ich habe Fotos vom Karton und vom Inhalt gemacht und kann sie Ihnen schicken.",
                   "Im Paket war nur einer von drei Artikeln, auf dem Lieferschein stehen aber alle drei.",
                   "Ich wohne im dritten Stock und der Fahrer hat offenbar nicht einmal geklingelt.",
                   "Die Bestellnummer ist {order}, die Paketnummer {tracking}."],
        "ask": ["Was soll ich jetzt tun?", "Können Sie einen Nachforschungsauftrag beim Paketdienst stellen?",
                "Können Sie mir bitte Ersatz schicken?", "Könnten Sie den fehlenden Artikel nachsenden?",
                "Kann das Paket stattdessen an eine Packstation gehen?"],
    },
}
T["returns"] = {
    "en": {
        "subject": ["Return of order {order}", "How do I return an item?", "Return label request",
                    "Refund not received yet", "Exchange for a different size", "Returns form missing",
                    "Return within 30 days?", "refund for {product}"],
        "open": ["I would like to return the {product} from order {order}.",
                 "I sent back the {product} on {date} but have not received a refund yet.",
                 "The {product} does not fit, and I would like to exchange it for a bigger size.",
                 "There was no returns form in the parcel for order {order}.",
                 "I am not happy with the {product} and would like to send it back."],
        "detail": ["The item is unused and still in its original packaging.",
                   "The parcel was handed in at the {carrier} shop, I have the receipt with number {tracking}.",
                   "The amount in question is {amount}.",
                   "It has now been {days} days since you received the return according to tracking.",
                   "I paid by credit card, so the money should go back to the same card.",
                   "I could not find a way to print a label in my customer account."],
        "ask": ["Could you send me a return label?", "When will the refund be processed?",
                "Do I have to pay for the return shipping?", "How does the exchange work?",
                "Can you confirm that you received the return?"],
    },
    "de": {
        "subject": ["Rücksendung Bestellung {order}", "Wie kann ich etwas zurückschicken?", "Retourenschein anfordern",
                    "Erstattung noch nicht erhalten", "Umtausch in andere Größe", "Rücksendeformular fehlt",
                    "Widerruf meiner Bestellung", "Rückerstattung für {product}"],
        "open": ["ich möchte den Artikel \"{product}\" aus der Bestellung {order} zurückschicken.",
                 "ich habe den Artikel \"{product}\" am {date} zurückgeschickt, aber noch kein Geld zurückbekommen.",
                 "der Artikel \"{product}\" passt leider nicht, ich würde ihn gern gegen eine Nummer größer tauschen.",
                 "im Paket zur Bestellung {order} lag kein Rücksendeformular.",
                 "hiermit widerrufe ich meine Bestellung {order} vom {date}."],
        "detail": ["Der Artikel ist unbenutzt und noch originalverpackt.",
                   "Das Paket habe ich im {carrier}-Shop abgegeben, den Beleg mit der Nummer {tracking} habe ich noch.",
                   "Es geht um einen Betrag von {amount}.",
                   "Laut Sendungsverfolgung ist die Retoure seit {days} Tagen bei Ihnen.",
                   "Ich habe per Lastschrift bezahlt.",
                   "In meinem Kundenkonto finde ich keine Möglichkeit, ein Etikett zu drucken."],
        "ask": ["Können Sie mir ein Rücksendeetikett schicken?", "Wann wird die Erstattung bearbeitet?",
                "Muss ich die Rücksendekosten selbst tragen?", "Wie läuft der Umtausch ab?",
                "Können Sie mir den Eingang der Rücksendung bestätigen?"],
    },
}
T["password"] = {
    "en": {
        "subject": ["Password reset not working", "Cannot log in", "Forgot my password", "Account locked",
                    "Reset link expired", "No password reset e-mail", "Login problem", "two-factor code not arriving"],
        "open": ["I have forgotten my password and the reset link does not arrive.",
                 "Since {date} I cannot log in to my account any more.",
                 "When I click the link in the password reset e-mail it says the link has expired.",
                 "My account was locked after I typed the wrong password a few times.",
                 "The six-digit code for the login never reaches my phone."],
        "detail": ["I have checked the spam folder several times.",
                   "The e-mail address on the account is {email}.",
                   "I tried it in two different browsers with the same result.",
                   "The error message says \"invalid credentials\" even though I am sure the password is right.",
                   "I changed my phone number recently, maybe that is the reason.",
                   "My customer number is {customer}."],
        "ask": ["Can you reset the password for me?", "How can I get back into my account?",
                "Could you unlock the account please?", "Can you send me a new link?",
                "What else can I try?"],
    },
    "de": {
        "subject": ["Passwort zurücksetzen funktioniert nicht", "Login nicht möglich", "Passwort vergessen",
                    "Konto gesperrt", "Link zum Zurücksetzen abgelaufen", "Keine E-Mail zum Passwort erhalten",
                    "Anmeldeproblem", "Bestätigungscode kommt nicht an"],
        "open": ["ich habe mein Passwort vergessen und der Link zum Zurücksetzen kommt nicht an.",
                 "seit dem {date} kann ich mich nicht mehr in meinem Kundenkonto anmelden.",
                 "wenn ich auf den Link in der E-Mail klicke, heißt es, der Link sei abgelaufen.",
                 "mein Konto wurde gesperrt, nachdem ich das Passwort mehrmals falsch eingegeben habe.",
                 "der sechsstellige Code für die Anmeldung kommt auf meinem Handy nie an."],
        "detail": ["Den Spam-Ordner habe ich schon mehrmals durchsucht.",
                   "Die hinterlegte E-Mail-Adresse ist {email}.",
                   "Ich habe es in zwei verschiedenen Browsern versucht, immer dasselbe.",
                   "Es erscheint die Meldung \"Anmeldedaten ungültig\", obwohl das Passwort stimmt.",
                   "Ich habe vor kurzem eine neue Handynummer bekommen, vielleicht liegt es daran.",
                   "Meine Kundennummer ist {customer}."],
        "ask": ["Können Sie das Passwort für mich zurücksetzen?", "Wie komme ich wieder in mein Konto?",
                "Könnten Sie das Konto bitte entsperren?", "Können Sie mir einen neuen Link schicken?",
                "Was kann ich noch versuchen?"],
    },
}
T["account"] = {
    "en": {
        "subject": ["Delete my account", "Change e-mail address", "Unsubscribe from newsletter",
                    "Update my billing address", "Merge two accounts", "GDPR request: my data",
                    "Change the name on my account", "close account {customer}"],
        "open": ["Please delete my customer account ({email}) together with all stored data.",
                 "I would like to change the e-mail address on my account to {email}.",
                 "I keep getting your newsletter although I unsubscribed on {date}.",
                 "We moved offices, so the billing address on our account needs updating.",
                 "By mistake I created two accounts, one with my private and one with my work address."],
        "detail": ["The customer number is {customer}.",
                   "In the account settings the field for the e-mail address is greyed out.",
                   "The new address is {street}, {city}.",
                   "Under the GDPR I would also like a copy of the data you hold about me.",
                   "There are still two open orders on the old account, please keep those.",
                   "I no longer use the old address, so please do not send anything there."],
        "ask": ["Can you please take care of this?", "Please confirm once it is done.",
                "Is there anything you need from me for this?", "How long does this usually take?",
                "Can the order history be moved to the other account?"],
    },
    "de": {
        "subject": ["Konto löschen", "E-Mail-Adresse ändern", "Newsletter abbestellen", "Rechnungsadresse ändern",
                    "Zwei Kundenkonten zusammenführen", "Auskunft nach DSGVO", "Name im Kundenkonto ändern",
                    "Kundenkonto {customer} schließen"],
        "open": ["bitte löschen Sie mein Kundenkonto ({email}) mit allen gespeicherten Daten.",
                 "ich möchte die E-Mail-Adresse in meinem Konto auf {email} ändern.",
                 "ich bekomme weiterhin Ihren Newsletter, obwohl ich mich am {date} abgemeldet habe.",
                 "wir sind umgezogen, deshalb muss die Rechnungsadresse in unserem Konto geändert werden.",
                 "ich habe aus Versehen zwei Konten angelegt, eins privat und eins mit der Firmenadresse."],
        "detail": ["Die Kundennummer ist {customer}.",
                   "In den Kontoeinstellungen ist das Feld für die E-Mail-Adresse ausgegraut.",
                   "Die neue Anschrift lautet {street}, {city}.",
                   "Gemäß DSGVO bitte ich außerdem um Auskunft über die zu meiner Person gespeicherten Daten.",
                   "Auf dem alten Konto sind noch zwei offene Bestellungen, die sollen bitte bleiben.",
                   "Die alte Adresse nutze ich nicht mehr, bitte schicken Sie dorthin nichts mehr."],
        "ask": ["Können Sie das bitte erledigen?", "Bitte bestätigen Sie mir kurz, wenn es erledigt ist.",
                "Brauchen Sie dafür noch etwas von mir?", "Wie lange dauert das in der Regel?",
                "Kann die Bestellhistorie auf das andere Konto übertragen werden?"],
    },
}
T["invoice"] = {
    "en": {
        "subject": ["Invoice for order {order}", "Copy of invoice {invoice}", "Wrong VAT on invoice",
                    "Payment reminder although I paid", "Invoice address incorrect", "Need an invoice with company name",
                    "Double charge on my card", "Question about invoice {invoice}"],
        "open": ["I need a copy of invoice {invoice} for my tax return.",
                 "The invoice for order {order} shows the wrong VAT rate.",
                 "Today I received a payment reminder for {amount}, but I paid on {date}.",
                 "Our company name is missing on invoice {invoice}, so our accounts department cannot book it.",
                 "My credit card was charged twice for the same order ({order})."],
        "detail": ["The transfer reference was the invoice number {invoice}.",
                   "Our VAT ID is DE{vat}, please put it on the invoice.",
                   "I have attached a screenshot of my bank statement.",
                   "The download link in my account leads to an empty page.",
                   "Both charges of {amount} show up on my statement dated {date}.",
                   "We need the invoice in PDF format, a paper copy is not necessary."],
        "ask": ["Could you send me a corrected invoice?", "Can you please check your payment records?",
                "When will the second charge be refunded?", "Can you send the invoice by e-mail?",
                "Please cancel the reminder."],
    },
    "de": {
        "subject": ["Rechnung zur Bestellung {order}", "Rechnungskopie {invoice}", "Falsche Mehrwertsteuer auf Rechnung",
                    "Mahnung trotz Zahlung", "Rechnungsanschrift falsch", "Rechnung auf Firma ausstellen",
                    "Doppelte Abbuchung", "Frage zur Rechnung {invoice}"],
        "open": ["für meine Steuererklärung benötige ich eine Kopie der Rechnung {invoice}.",
                 "auf der Rechnung zur Bestellung {order} ist der falsche Mehrwertsteuersatz ausgewiesen.",
                 "heute kam eine Zahlungserinnerung über {amount}, ich habe aber am {date} bezahlt.",
                 "auf der Rechnung {invoice} fehlt unser Firmenname, unsere Buchhaltung kann sie so nicht buchen.",
                 "der Betrag für die Bestellung {order} wurde zweimal von meiner Kreditkarte abgebucht."],
        "detail": ["Als Verwendungszweck habe ich die Rechnungsnummer {invoice} angegeben.",
                   "Unsere USt-IdNr. lautet DE{vat}, bitte vermerken Sie diese auf der Rechnung.",
                   "Einen Screenshot meines Kontoauszugs habe ich angehängt.",
                   "Der Download-Link in meinem Konto führt auf eine leere Seite.",
                   "Beide Abbuchungen über {amount} stehen auf dem Auszug vom {date}.",
                   "Wir brauchen die Rechnung als PDF, Papier ist nicht nötig."],
        "ask": ["Können Sie mir eine korrigierte Rechnung schicken?", "Könnten Sie bitte Ihren Zahlungseingang prüfen?",
                "Wann wird die doppelte Abbuchung erstattet?", "Können Sie mir die Rechnung per E-Mail senden?",
                "Bitte stornieren Sie die Mahnung."],
    },
}
T["office"] = {
    "en": {
        "subject": ["{app} keeps crashing", "{app} error {errcode}", "Office activation failed", "{app} will not open",
                    "Shared mailbox not showing in Outlook", "Excel formula question", "Word document layout broken",
                    "Teams meeting audio problem", "License for {ver}", "OneDrive not syncing"],
        "open": ["Since the last update {app} crashes every time I open it.",
                 "When I start {app} I get the error {errcode}.",
                 "We bought {ver} for our office, but activation fails on one of the computers.",
                 "In Outlook the shared mailbox of our team has disappeared since {date}.",
                 "I am trying to add up a column in Excel only where the next column says \"paid\", and the result stays 0.",
                 "When I open a Word document from a colleague, all the numbering and headings are messed up.",
                 "In Teams meetings nobody can hear me, although the microphone works in other programs."],
        "detail": ["The computer runs {os} with all updates installed.",
                   "I already tried the repair function in the control panel, no change.",
                   "We have {seats} users on the same licence.",
                   "Safe mode starts, but normal mode does not.",
                   "OneDrive shows a red cross and the message that files cannot be uploaded.",
                   "The version shown under Account is {ver}, build 16.0.{build}.",
                   "Other users in the office do not have the problem."],
        "ask": ["Is there a fix for this?", "What can we do?", "Can you help us set this up?",
                "Do we need a different licence for this?", "Could someone call me about it?"],
    },
    "de": {
        "subject": ["{app} stürzt ständig ab", "{app} Fehler {errcode}", "Office-Aktivierung fehlgeschlagen",
                    "{app} startet nicht", "Gruppenpostfach fehlt in Outlook", "Frage zu Excel-Formel",
                    "Word-Dokument Formatierung zerschossen", "Teams: Ton im Meeting geht nicht", "Lizenz für {ver}",
                    "OneDrive synchronisiert nicht"],
        "open": ["seit dem letzten Update stürzt {app} bei jedem Start ab.",
                 "beim Öffnen von {app} erscheint der Fehler {errcode}.",
                 "wir haben {ver} für unser Büro gekauft, aber auf einem Rechner schlägt die Aktivierung fehl.",
                 "in Outlook ist seit dem {date} das Gruppenpostfach unseres Teams verschwunden.",
                 "ich möchte in Excel eine Spalte nur dort aufsummieren, wo daneben \"bezahlt\" steht, aber es kommt immer 0 heraus.",
                 "wenn ich ein Word-Dokument von einer Kollegin öffne, ist die ganze Nummerierung durcheinander.",
                 "in Teams-Besprechungen hört mich niemand, obwohl das Mikrofon in anderen Programmen geht."],
        "detail": ["Auf dem Rechner läuft {os} mit allen Updates.",
                   "Die Reparatur über die Systemsteuerung habe ich schon ausprobiert, ohne Erfolg.",
                   "Wir sind {seats} Benutzer mit derselben Lizenz.",
                   "Im abgesicherten Modus startet es, normal aber nicht.",
                   "OneDrive zeigt ein rotes Kreuz und meldet, dass Dateien nicht hochgeladen werden können.",
                   "Unter Konto steht die Version {ver}, Build 16.0.{build}.",
                   "Bei den anderen im Büro tritt das Problem nicht auf."],
        "ask": ["Gibt es dafür eine Lösung?", "Was können wir tun?", "Können Sie uns bei der Einrichtung helfen?",
                "Brauchen wir dafür eine andere Lizenz?", "Könnte mich jemand dazu anrufen?"],
    },
}
T["complaint"] = {
    "en": {
        "subject": ["Complaint", "Very disappointed", "Third time asking - no answer", "Terrible service",
                    "Formal complaint about order {order}", "This is unacceptable", "Still waiting for a reply!"],
        "open": ["This is the third time I am writing to you about order {order} and I still have no answer.",
                 "I am really disappointed with how my order was handled.",
                 "Your hotline kept me on hold for {days} minutes and then hung up.",
                 "I was promised a call back on {date}, nobody ever called."],
        "detail": ["I have been a customer for years and have never experienced anything like this.",
                   "Frankly, the quality of the {product} is far below what the description promised.",
                   "Every time I get a different answer from a different person.",
                   "I expect at least an apology and a solution.",
                   "If this is not sorted out this week I will leave a review and contact the consumer advice centre."],
        "ask": ["I want my money back.", "Please have a manager contact me.", "What are you going to do about it?",
                "I expect an answer within two working days."],
    },
    "de": {
        "subject": ["Beschwerde", "Sehr enttäuscht", "Zum dritten Mal - keine Antwort", "Miserabler Service",
                    "Beschwerde zur Bestellung {order}", "Das ist inakzeptabel", "Warte immer noch auf Antwort!"],
        "open": ["ich schreibe Ihnen jetzt zum dritten Mal wegen der Bestellung {order} und habe immer noch keine Antwort.",
                 "ich bin wirklich enttäuscht, wie meine Bestellung abgewickelt wurde.",
                 "Ihre Hotline hat mich {days} Minuten in der Warteschleife gelassen und dann aufgelegt.",
                 "mir wurde für den {date} ein Rückruf versprochen, angerufen hat niemand."],
        "detail": ["Ich bin seit Jahren Kunde und habe so etwas noch nicht erlebt.",
                   "Ehrlich gesagt ist die Qualität des Artikels \"{product}\" weit unter dem, was beschrieben war.",
                   "Jedes Mal bekomme ich von jemand anderem eine andere Auskunft.",
                   "Ich erwarte mindestens eine Entschuldigung und eine Lösung.",
                   "Wenn das nicht diese Woche geklärt wird, schreibe ich eine Bewertung und gehe zur Verbraucherzentrale."],
        "ask": ["Ich möchte mein Geld zurück.", "Bitte lassen Sie mich von einem Vorgesetzten kontaktieren.",
                "Was gedenken Sie zu tun?", "Ich erwarte eine Antwort innerhalb von zwei Werktagen."],
    },
}
T["general"] = {
    "en": {
        "subject": ["Question", "Opening hours", "Do you ship abroad?", "Gift vouchers", "Is the {product} in stock?",
                    "Business customer account", "Quick question", "Product information", "Collection in store?"],
        "open": ["I have a quick question about the {product} in your shop.",
                 "Do you also deliver to Switzerland and Austria?",
                 "I would like to buy a gift voucher for {amount}.",
                 "We are a small company and would like to open a business account with you.",
                 "Is it possible to pick up an order at your warehouse?"],
        "detail": ["On the product page it says \"available soon\" but without a date.",
                   "It would be for a present on {date}.",
                   "We would need invoices with payment terms of 30 days.",
                   "I could not find this information in the FAQ.",
                   "My colleague recommended your shop to me."],
        "ask": ["Could you give me some information?", "Thank you for a short answer.",
                "What are your opening hours?", "How long does that take?", "Is that possible?"],
    },
    "de": {
        "subject": ["Frage", "Öffnungszeiten", "Versand ins Ausland?", "Gutscheine", "Ist der Artikel {product} lieferbar?",
                    "Geschäftskundenkonto", "Kurze Frage", "Produktinformation", "Abholung möglich?"],
        "open": ["ich habe eine kurze Frage zu dem Artikel \"{product}\" in Ihrem Shop.",
                 "liefern Sie auch in die Schweiz und nach Österreich?",
                 "ich würde gern einen Geschenkgutschein über {amount} kaufen.",
                 "wir sind ein kleines Unternehmen und möchten bei Ihnen ein Geschäftskundenkonto eröffnen.",
                 "kann man eine Bestellung auch bei Ihnen im Lager abholen?"],
        "detail": ["Auf der Produktseite steht \"bald verfügbar\", aber ohne Datum.",
                   "Es wäre ein Geschenk für den {date}.",
                   "Wir bräuchten Rechnungen mit 30 Tagen Zahlungsziel.",
                   "In den FAQ habe ich dazu nichts gefunden.",
                   "Eine Kollegin hat mir Ihren Shop empfohlen."],
        "ask": ["Können Sie mir dazu etwas sagen?", "Über eine kurze Antwort würde ich mich freuen.",
                "Wie sind Ihre Öffnungszeiten?", "Wie lange dauert das?", "Ist das möglich?"],
    },
}
TOPIC_WEIGHTS = [("order", 16), ("delivery", 14), ("returns", 12), ("password", 12), ("account", 9),
                 ("invoice", 10), ("office", 14), ("complaint", 6), ("general", 7)]
TOPICS = [t for t, w in TOPIC_WEIGHTS for _ in range(w)]

GREET = {
    "en": ["Hello,", "Hi,", "Hi there,", "Dear support team,", "Good morning,", "Hello {agent},", "Dear Sir or Madam,",
           "Hi support,", "Good afternoon,"],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Liebes Support-Team,", "Moin,",
           "Hallo zusammen,", "Hallo {agent},", "Guten Morgen,", "Sehr geehrtes Service-Team,"],
}
EXTRA = {
    "en": ["Sorry if this is the wrong address for this.", "I hope you can help me.",
           "I already filled in the contact form but got no reply.", "Thanks for your patience with this.",
           "I am not very good with computers, so please explain it simply.", "It is quite urgent for me."],
    "de": ["Entschuldigung, falls ich hier falsch bin.", "Ich hoffe, Sie können mir weiterhelfen.",
           "Das Kontaktformular habe ich schon ausgefüllt, aber keine Antwort bekommen.",
           "Vielen Dank schon mal für Ihre Mühe.", "Ich kenne mich mit Computern nicht so gut aus, bitte erklären Sie es einfach.",
           "Es ist für mich ziemlich dringend."],
}
SIGNOFF = {
    "en": ["Thanks in advance,", "Best regards,", "Kind regards,", "Cheers,", "Many thanks,", "Regards,",
           "Thank you,", "All the best,"],
    "de": ["Vielen Dank im Voraus", "Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße", "Danke und Gruß",
           "Freundliche Grüße", "LG", "Schöne Grüße"],
}
MOBILE = {"en": ["Sent from my phone", "Sent from my tablet, please excuse typos"],
          "de": ["Von meinem Smartphone gesendet", "Gesendet vom Handy, bitte Tippfehler entschuldigen"]}
LEGAL_DE = ("Geschäftsführung: {name} | Amtsgericht {city_only} HRB {hrb}\n"
            "Diese E-Mail kann vertrauliche Informationen enthalten. Wenn Sie nicht der richtige Adressat sind,\n"
            "informieren Sie bitte den Absender und löschen Sie diese E-Mail.")
LEGAL_EN = ("Registered in England and Wales, company no. {hrb}\n"
            "This message may contain confidential information. If you are not the intended recipient,\n"
            "please tell the sender and delete it.")
SUPPORT_REPLY = {
    "en": ["Thank you for your message.", "We are sorry for the inconvenience.",
           "Could you please send us your order number and the e-mail address you used for the order?",
           "We have forwarded your request to the responsible department.",
           "You will hear from us within the next two working days.",
           "Please note that refunds can take up to five working days to show on your statement.",
           "If you have any further questions, simply reply to this e-mail."],
    "de": ["vielen Dank für Ihre Nachricht.", "Bitte entschuldigen Sie die Unannehmlichkeiten.",
           "Könnten Sie uns bitte Ihre Bestellnummer und die bei der Bestellung verwendete E-Mail-Adresse nennen?",
           "Wir haben Ihr Anliegen an die zuständige Abteilung weitergeleitet.",
           "Sie hören innerhalb von zwei Werktagen von uns.",
           "Bitte beachten Sie, dass Erstattungen bis zu fünf Werktage dauern können.",
           "Bei weiteren Fragen antworten Sie einfach auf diese E-Mail."],
}
AUTO = {
    "en": {"subject": ["Automatic reply: {subj}", "Out of Office: {subj}", "Auto: {subj}", "Away until {date}"],
           "body": ["Thank you for your e-mail. I am out of the office until {date} with no access to e-mail.",
                    "Your message will not be forwarded.",
                    "For urgent matters please contact {other} at {other_email}.",
                    "I will reply as soon as possible after my return.",
                    "This is an automatic reply, please do not answer it."]},
    "de": {"subject": ["Automatische Antwort: {subj}", "Abwesenheitsnotiz: {subj}", "Bin nicht im Büro: {subj}",
                       "Urlaub bis {date}"],
           "body": ["vielen Dank für Ihre Nachricht. Ich bin bis einschließlich {date} nicht im Büro.",
                    "Ihre E-Mail wird nicht weitergeleitet.",
                    "In dringenden Fällen wenden Sie sich bitte an {other} ({other_email}).",
                    "Nach meiner Rückkehr melde ich mich schnellstmöglich.",
                    "Dies ist eine automatisch erzeugte Nachricht."]},
}
BOUNCE_REASONS = [("5.1.1", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"),
                  ("5.2.2", "552 5.2.2 <{rcpt}>: mailbox full, quota exceeded"),
                  ("5.1.2", "Host or domain name not found. Name service error for name={dom} type=MX"),
                  ("4.4.1", "connect to mx.{dom}[192.0.2.{n}]:25: Connection timed out"),
                  ("5.7.1", "550 5.7.1 Message rejected as spam by content filter")]
LISTS = [
    ("shop-ops", "Shop operators", "en",
     ["Has anyone else seen parcels from {carrier} sitting at the depot for days this month?",
      "We switched our label printing to the new API last week and a few labels came out without the barcode.",
      "For what it is worth, we now send a short delay notice after three days, and complaints went down a lot.",
      "Does anybody have a good template for the returns form that works in German and English?"]),
    ("buero-it", "Büro-IT Stammtisch", "de",
     ["Hat noch jemand seit dem letzten Office-Update das Problem, dass Outlook beim Start hängt?",
      "Bei uns hat es geholfen, das Profil neu anzulegen, danach lief alles wieder.",
      "Wir überlegen, auf Microsoft 365 Business umzusteigen. Welche Erfahrungen habt ihr mit der Migration?",
      "Tipp am Rande: Die Excel-Funktion SUMMEWENNS spart bei Auswertungen viel Zeit."]),
    ("excel-tips", "Excel tips and tricks", "en",
     ["This week: conditional sums with more than one condition, and why text that looks like a number breaks them.",
      "A reader asked how to stop Excel turning part numbers into dates. Format the column as text before pasting.",
      "Next issue: pivot tables for people who have never made one."]),
]
ATTACH = [("application/pdf", "invoice-scan.pdf", "Rechnung.pdf"), ("image/png", "screenshot.png", "Bildschirmfoto.png"),
          ("image/jpeg", "photo_parcel.jpg", "Foto_Paket.jpg"), ("text/plain", "error-log.txt", "fehlerprotokoll.txt")]
ERRCODES = ["0x80070005", "0xCAA70004", "30015-26", "0x8004010F", "0x80040600", "1058-13", "0x4004F00C",
            "AADSTS50076", "0x80190001"]
HTML_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})

# ---------------------------------------------------------------------------------------------------------


def ascii_fold(s):
    return (s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss").replace("Ä", "Ae")
            .replace("Ö", "Oe").replace("Ü", "Ue").replace("ı", "i").replace("ş", "s").replace("ë", "e")
            .replace("'", "").replace(" ", "-").lower())


def fits_latin1(text):
    try:
        text.encode("latin-1")
        return True
    except UnicodeEncodeError:
        return False


Q_SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def q_word(chunk, charset):
    out = []
    for b in chunk.encode(charset):
        if b in Q_SAFE:
            out.append(chr(b))
        elif b == 0x20:
            out.append("_")
        else:
            out.append("=%02X" % b)
    return "=?%s?Q?%s?=" % (charset, "".join(out))


def encode_header(text, rng):
    """RFC 2047 for text with non-ASCII characters (Q or B, UTF-8 or ISO-8859-1), folded; ASCII as it is."""
    if text.isascii():
        return text
    r = rng.random()
    if r < 0.03:
        return text  # some mailers send raw UTF-8 (RFC 6532); readers cope
    charset = "iso-8859-1" if r < 0.2 and fits_latin1(text) else "utf-8"
    words = []
    if r > 0.75:  # B encoding, in pieces of at most 30 characters
        for k in range(0, len(text), 30):
            words.append("=?%s?B?%s?=" % (charset, base64.b64encode(text[k:k + 30].encode(charset)).decode()))
    else:
        for k in range(0, len(text), 18):
            words.append(q_word(text[k:k + 18], charset))
    return "\n ".join(words)


def wrap(text, width=72):
    lines, cur, n = [], [], 0
    for w in text.split(" "):
        if n and n + 1 + len(w) > width:
            lines.append(" ".join(cur))
            cur, n = [w], len(w)
        else:
            cur.append(w)
            n = n + 1 + len(w) if n else len(w)
    if cur:
        lines.append(" ".join(cur))
    return lines


def rfc5322(ts, offset_min):
    t = time.gmtime(ts + offset_min * 60)
    sign = "+" if offset_min >= 0 else "-"
    o = abs(offset_min)
    return "%s, %02d %s %d %02d:%02d:%02d %s%02d%02d" % (DAYS[t.tm_wday], t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year,
                                                          t.tm_hour, t.tm_min, t.tm_sec, sign, o // 60, o % 60)


def asctime(ts):
    t = time.gmtime(ts)
    return "%s %s %2d %02d:%02d:%02d %d" % (DAYS[t.tm_wday], MONTHS[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min,
                                            t.tm_sec, t.tm_year)


def berlin_offset(ts):
    return 120 if DST_START <= ts < DST_END else 60


class Gen:
    def __init__(self, n, seed):
        self.n = n
        self.rng = random.Random(seed)
        self.seed = seed

    # --- pieces -------------------------------------------------------------------------------------------
    def person(self, lang):
        rng = self.rng
        if lang == "de":
            first, last = rng.choice(FIRST_DE), rng.choice(LAST_DE)
        else:
            first, last = rng.choice(FIRST_EN), rng.choice(LAST_EN)
        r = rng.random()
        company = None
        if r < 0.3:
            company = rng.choice(COMPANY_DOMAINS)
            dom = company
        else:
            dom = rng.choice(PRIVATE_DOMAINS)
        f, l = ascii_fold(first), ascii_fold(last)
        form = rng.random()
        if form < 0.5:
            local = "%s.%s" % (f, l)
        elif form < 0.7:
            local = "%s%s" % (f[0], l)
        elif form < 0.85:
            local = "%s.%s%d" % (f, l, rng.randint(1, 99))
        else:
            local = "%s_%d" % (l, rng.randint(1950, 2005))
        return first, last, "%s@%s" % (local, dom), company

    def slots(self, lang, email, day_ts):
        rng = self.rng
        d = time.gmtime(day_ts - rng.randint(1, 20) * 86400)
        p = rng.choice(PRODUCTS)
        cents = rng.choice([99, 90, 95, 49, 0, 50])
        euros = rng.randint(5, 480)
        if lang == "de":
            date = "%d.%d." % (d.tm_mday, d.tm_mon) if rng.random() < 0.6 else "%d. %s" % (d.tm_mday, MONTHS_DE[d.tm_mon - 1])
            amount = "%d,%02d %s" % (euros, cents, rng.choice(["€", "EUR", "Euro"]))
            zip_, city = rng.choice(CITIES_DE)
            city = "%s %s" % (zip_, city)
            street = "%s %d" % (rng.choice(STREETS), rng.randint(1, 120))
        else:
            date = "%s %d" % (MONTHS_EN[d.tm_mon - 1], d.tm_mday) if rng.random() < 0.5 else "%d %s" % (d.tm_mday, MONTHS_EN[d.tm_mon - 1])
            amount = rng.choice(["€%d.%02d", "EUR %d.%02d", "%d.%02d euros"]) % (euros, cents)
            city = rng.choice(CITIES_EN)
            street = "%d %s Road" % (rng.randint(1, 200), rng.choice(["Mill", "Station", "Church", "Park", "Victoria"]))
        return {
            "order": rng.choice(["%d" % rng.randint(100000, 999999), "A%07d" % rng.randint(0, 9999999),
                                 "2026-%05d" % rng.randint(0, 99999), "WS-%d" % rng.randint(10000, 99999)]),
            "product": p[1] if lang == "de" else p[0],
            "date": date, "days": rng.randint(3, 21), "amount": amount,
            "tracking": rng.choice(["00340434%012d" % rng.randrange(10 ** 12), "JJD%016d" % rng.randrange(10 ** 16),
                                    "1Z%06dX%09d" % (rng.randrange(10 ** 6), rng.randrange(10 ** 9)),
                                    "H%019d" % rng.randrange(10 ** 19)]),
            "carrier": rng.choice(CARRIERS), "customer": "K%06d" % rng.randint(0, 999999),
            "invoice": "RE-2026-%05d" % rng.randint(0, 99999), "app": rng.choice(APPS),
            "ver": rng.choice(OFFICE_VERSIONS), "os": rng.choice(SYSTEMS), "errcode": rng.choice(ERRCODES),
            "seats": rng.randint(2, 40), "build": "%d.%d" % (rng.randint(17000, 18999), rng.randint(20000, 21999)),
            "vat": "%09d" % rng.randrange(10 ** 9), "email": email, "agent": rng.choice(AGENTS),
            "street": street, "city": city,
        }

    def signature(self, lang, first, last, email, company, s):
        rng = self.rng
        r = rng.random()
        if r < 0.25:
            return []
        if r < 0.4:
            return ["", rng.choice(MOBILE[lang])]
        lines = ["", "-- ", "%s %s" % (first, last)]
        if company:
            cname = company.split(".")[0].replace("-", " ").title()
            lines.append(cname + (" GmbH" if lang == "de" else " Ltd"))
        lines.append(s["street"])
        lines.append(s["city"])
        lines.append(("Tel. +49 %d %d" if lang == "de" else "Phone +44 %d %d") % (rng.randint(30, 9999), rng.randint(100000, 9999999)))
        if company and rng.random() < 0.7:
            lines.append("Web: https://www.%s" % company)
            legal = LEGAL_DE if lang == "de" else LEGAL_EN
            lines.extend(["", legal.format(name="%s %s" % (first, last), city_only=s["city"].split(" ")[-1],
                                           hrb=rng.randint(1000, 99999))])
        return lines

    def quoted(self, lang, when_ts, subj):
        """An earlier reply from support, quoted below the new text."""
        rng = self.rng
        ts = when_ts - rng.randint(3600, 10 * 86400)
        t = time.gmtime(ts + 3600)
        agent = rng.choice(AGENTS)
        if lang == "de":
            head = "Am %02d.%02d.%d um %02d:%02d schrieb Support-Team <support@example.com>:" % (t.tm_mday, t.tm_mon, t.tm_year, t.tm_hour, t.tm_min)
            hello = "> Guten Tag,"
            bye = ["> Mit freundlichen Grüßen", "> %s vom Support-Team" % agent]
        else:
            head = "On %s, %d %s %d at %02d:%02d, Support Team <support@example.com> wrote:" % (DAYS[t.tm_wday], t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min)
            hello = "> Hello,"
            bye = ["> Kind regards,", "> %s, Customer Support" % agent]
        sents = rng.sample(SUPPORT_REPLY[lang], rng.randint(3, 5))
        lines = ["", head, hello, ">"]
        lines.extend("> " + x for x in wrap(" ".join(sents), 70))
        lines.append(">")
        lines.extend(bye)
        if rng.random() < 0.4:
            # The customer's first mail, quoted twice.
            lines.append(">")
            lines.append("> " + ("Am %d.%d. schrieb der Kunde:" % (t.tm_mday, t.tm_mon) if lang == "de" else "Original message:"))
            lines.append(">> " + subj)
            if rng.random() < 0.15:
                # Quoted without a space after ">", as some mailers do: mboxrd escapes such lines.
                lines.append(">From my side nothing has changed since then.")
        return lines

    # --- messages -----------------------------------------------------------------------------------------
    def received(self, dom, ts, count):
        rng = self.rng
        out = []
        for k in range(count):
            hop_ts = ts + 2 * (count - k)
            if k == 0:
                out.append("Received: from mout.%s (mout.%s [203.0.113.%d])\n\tby mx1.example.com (Postfix) with ESMTPS id %s\n"
                           "\tfor <support@example.com>; %s" % (dom, dom, rng.randint(1, 254), "%010X" % rng.randrange(16 ** 10), rfc5322(hop_ts, 0)))
            else:
                out.append("Received: from [198.51.100.%d] ([198.51.100.%d]) by smtp.%s\n\twith ESMTPSA id %s; %s"
                           % (rng.randint(1, 254), rng.randint(1, 254), dom, "%08x" % rng.randrange(16 ** 8), rfc5322(hop_ts, 60)))
        return out

    def customer(self, i, ts):
        rng = self.rng
        lang = "de" if rng.random() < 0.55 else "en"
        topic = rng.choice(TOPICS)
        first, last, email, company = self.person(lang)
        s = self.slots(lang, email, ts)
        t = T[topic][lang]
        subj = rng.choice(t["subject"]).format_map(s)
        reply = rng.random() < 0.35
        if reply:
            subj = ("AW: " if lang == "de" and rng.random() < 0.6 else "Re: ") + subj
        body = [rng.choice(GREET[lang]).format_map(s), ""]
        details = rng.sample(t["detail"], rng.randint(3, 5))
        cut = rng.randint(1, len(details) - 1)
        paras = [" ".join(x.format_map(s) for x in [rng.choice(t["open"])] + details[:cut])]
        rest = " ".join(x.format_map(s) for x in details[cut:])
        if rng.random() < 0.6:
            rest = rng.choice(EXTRA[lang]) + " " + rest
        paras.append(rest)
        paras.append(rng.choice(t["ask"]).format_map(s))
        flowed = rng.random() < 0.3  # one line per paragraph, as many webmailers send
        for k, p in enumerate(paras):
            if k:
                body.append("")
            if flowed:
                body.append(p)
            else:
                body.extend(wrap(p))
        body.append("")
        body.append(rng.choice(SIGNOFF[lang]))
        body.append(first if rng.random() < 0.4 else "%s %s" % (first, last))
        body.extend(self.signature(lang, first, last, email, company, s))
        if reply or rng.random() < 0.1:
            body.extend(self.quoted(lang, ts, subj))
        latin1 = rng.random() < 0.14
        charset = "iso-8859-1" if latin1 else "utf-8"
        if latin1:
            body = [x.replace("€", "EUR") for x in body]
        text = "\n".join(body) + "\n"
        if latin1 and not fits_latin1(text):
            latin1, charset = False, "utf-8"
        kind = rng.random()
        dom = email.split("@")[1]
        offset = berlin_offset(ts) if lang == "de" else rng.choice([0, 0, 0, 60, -300])
        h = ["Return-Path: <%s>" % email]
        h.extend(self.received(dom, ts, rng.randint(2, 4)))
        if rng.random() < 0.8:
            h.append("Authentication-Results: mx1.example.com;\n\tdkim=pass header.d=%s header.s=mail1;\n\tspf=pass (mx1.example.com: domain of %s\n"
                     "\t designates 203.0.113.%d as permitted sender) smtp.mailfrom=%s;\n\tdmarc=pass (p=NONE) header.from=%s"
                     % (dom, email, rng.randint(1, 254), email, dom))
            h.append("X-Spam-Status: No, score=%.1f required=5.0 tests=BAYES_%02d,DKIM_SIGNED,DKIM_VALID,\n\tSPF_PASS autolearn=ham"
                     % (rng.uniform(-3, 2), rng.choice([0, 5, 10, 20])))
        if rng.random() < 0.6:
            h.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=mail%d;\n\tt=%d; h=from:to:subject:date:message-id;\n"
                     "\tbh=%s;\n\tb=%s" % (dom, rng.randint(1, 3), ts, base64.b64encode(rng.randbytes(32)).decode(),
                                          base64.b64encode(rng.randbytes(96)).decode()))
        name = "%s %s" % (first, last)
        if name.isascii():
            disp = '"%s"' % name if "'" in name or rng.random() < 0.3 else name
        else:
            disp = encode_header(name, rng)
        h.append("From: %s <%s>" % (disp, email))
        h.append("To: support@example.com" if rng.random() < 0.7 else "To: Support <support@example.com>")
        if rng.random() < 0.05:
            h.append("Cc: %s" % self.person(lang)[2])
        h.append("Subject: " + encode_header(subj, rng))
        h.append("Date: " + rfc5322(ts, offset))
        h.append("Message-ID: <%d.%s@%s>" % (i, "%012x" % rng.randrange(16 ** 12), dom))
        if reply:
            h.append("In-Reply-To: <ticket-%d@example.com>" % rng.randint(1000, 999999))
        mailer = rng.choice(MAILERS)
        if mailer:
            h.append(("X-Mailer: " if "Outlook" in mailer else "User-Agent: ") + mailer)
            if "Outlook" in mailer:
                h.append("Thread-Topic: %s" % encode_header(subj, rng))
                h.append("Thread-Index: %s" % base64.b64encode(rng.randbytes(rng.choice([22, 27, 32]))).decode())
                h.append("Content-Language: %s" % ("de-DE" if lang == "de" else "en-GB"))
        h.append("MIME-Version: 1.0")

        plain_ct = 'text/plain; charset="%s"' % charset if rng.random() < 0.5 else "text/plain; charset=%s" % charset
        if flowed:
            plain_ct += "; format=flowed"
        plain_body, plain_cte = self.encode_text(text, charset, latin1)
        if kind < 0.3:
            # multipart/alternative: the text and an HTML version of it.
            html = self.html(body, charset)
            html_body, html_cte = self.encode_text(html, charset, True)
            b = "----=_Part_%d_%d" % (i, rng.randrange(10 ** 9))
            h.append('Content-Type: multipart/alternative;\n boundary="%s"' % b)
            parts = ["--%s\nContent-Type: %s\nContent-Transfer-Encoding: %s\n\n%s" % (b, plain_ct, plain_cte, plain_body),
                     "--%s\nContent-Type: text/html; charset=%s\nContent-Transfer-Encoding: %s\n\n%s" % (b, charset, html_cte, html_body),
                     "--%s--\n" % b]
            msg_body = "This is a multi-part message in MIME format.\n\n" + "\n".join(parts)
        elif kind < 0.34:
            # A small attachment (a scan, a screenshot, a log).
            ct, en_name, de_name = rng.choice(ATTACH)
            fname = de_name if lang == "de" else en_name
            blob = base64.encodebytes(rng.randbytes(rng.randint(600, 2400))).decode()
            b = "------------%024d" % rng.randrange(10 ** 24)
            h.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            msg_body = ("This is a multi-part message in MIME format.\n--%s\nContent-Type: %s\nContent-Transfer-Encoding: %s\n\n%s\n"
                        "--%s\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\n"
                        "Content-Transfer-Encoding: base64\n\n%s\n--%s--\n"
                        % (b, plain_ct, plain_cte, plain_body, b, ct, fname, fname, blob, b))
        else:
            h.append("Content-Type: " + plain_ct)
            h.append("Content-Transfer-Encoding: " + plain_cte)
            msg_body = plain_body
        return email, ts, "\n".join(h) + "\n\n" + msg_body

    def encode_text(self, text, charset, latin1):
        if latin1 or self.rng.random() < 0.1:
            return binascii.b2a_qp(text.encode(charset)).decode("ascii"), "quoted-printable"
        return text, "8bit"

    def html(self, body, charset):
        out = ['<html><head><meta http-equiv="Content-Type" content="text/html; charset=%s">' % charset,
               '<style type="text/css">',
               'p.MsoNormal, li.MsoNormal, div.MsoNormal {margin: 0cm; font-size: 11.0pt; font-family: "Calibri", sans-serif;}',
               'a:link, span.MsoHyperlink {color: #0563C1; text-decoration: underline;}',
               'span.EmailStyle17 {font-family: "Calibri", sans-serif; color: windowtext;}',
               '.MsoChpDefault {font-family: "Calibri", sans-serif;}',
               '@page WordSection1 {size: 612.0pt 792.0pt; margin: 70.85pt 70.85pt 2.0cm 70.85pt;}',
               'div.WordSection1 {page: WordSection1;}',
               '</style></head>',
               '<body style="font-family: Calibri, Arial, sans-serif; font-size: 11pt;">']
        quote = False
        for line in body:
            if line.startswith(">") and not quote:
                out.append('<blockquote type="cite" style="border-left: 2px solid #1010ff; padding-left: 5px;">')
                quote = True
            if not line:
                out.append("<div><br></div>")
            else:
                out.append('<p class="MsoNormal">%s</p>' % line.lstrip("> ").translate(HTML_ESC))
        if quote:
            out.append("</blockquote>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"

    def auto_reply(self, i, ts):
        rng = self.rng
        lang = "de" if rng.random() < 0.6 else "en"
        first, last, email, company = self.person(lang)
        other = self.person(lang)
        s = self.slots(lang, email, ts + 20 * 86400)
        orig = rng.choice(T[rng.choice(TOPICS)][lang]["subject"]).format_map(s)
        a = AUTO[lang]
        subj = rng.choice(a["subject"]).format(subj="Re: " + orig, date=s["date"])
        fill = {"date": s["date"], "other": "%s %s" % (other[0], other[1]), "other_email": other[2]}
        lines = [rng.choice(GREET[lang]).format_map(s), ""]
        lines.extend(wrap(" ".join(x.format_map(fill) for x in a["body"][:rng.randint(3, 5)])))
        lines += ["", rng.choice(SIGNOFF[lang]), "%s %s" % (first, last)]
        lines.extend(self.signature(lang, first, last, email, company, s))
        text = "\n".join(lines) + "\n"
        latin1 = rng.random() < 0.2 and fits_latin1(text)
        charset = "iso-8859-1" if latin1 else "utf-8"
        body, cte = self.encode_text(text, charset, latin1)
        dom = email.split("@")[1]
        h = ["Return-Path: <%s>" % email]
        h.extend(self.received(dom, ts, 1))
        name = "%s %s" % (first, last)
        h.append("From: %s <%s>" % (name if name.isascii() else encode_header(name, rng), email))
        h.append("To: support@example.com")
        h.append("Subject: " + encode_header(subj, rng))
        h.append("Date: " + rfc5322(ts, berlin_offset(ts) if lang == "de" else 0))
        h.append("Message-ID: <auto-%d.%x@%s>" % (i, rng.randrange(16 ** 10), dom))
        h.append("In-Reply-To: <ticket-%d@example.com>" % rng.randint(1000, 999999))
        h.append("Auto-Submitted: auto-replied")
        if rng.random() < 0.5:
            h.append("X-Auto-Response-Suppress: All")
        h.append("MIME-Version: 1.0")
        h.append("Content-Type: text/plain; charset=%s" % charset)
        h.append("Content-Transfer-Encoding: " + cte)
        return email, ts, "\n".join(h) + "\n\n" + body

    def bounce(self, i, ts):
        rng = self.rng
        lang = "de" if rng.random() < 0.5 else "en"
        _, _, rcpt, _ = self.person(lang)
        rdom = rcpt.split("@")[1]
        status, diag = rng.choice(BOUNCE_REASONS)
        diag = diag.format(rcpt=rcpt, dom=rdom, n=rng.randint(1, 254))
        qid = "%010X" % rng.randrange(16 ** 10)
        orig_ts = ts - rng.randint(5, 3000)
        orig_subj = rng.choice(T[rng.choice(TOPICS)][lang]["subject"]).format_map(self.slots(lang, rcpt, ts))
        b = "%s.%d/mx1.example.com" % (qid, ts)
        subj = rng.choice(["Undelivered Mail Returned to Sender", "Delivery Status Notification (Failure)",
                           "Mail delivery failed: returning message to sender", "Unzustellbar: Re: " + orig_subj])
        human = ("This is the mail system at host mx1.example.com.\n\nI'm sorry to have to inform you that your message could not\n"
                 "be delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\n"
                 "                   The mail system\n\n<%s>: %s\n" % (rcpt, diag))
        dsn = ("Reporting-MTA: dns; mx1.example.com\nX-Postfix-Queue-ID: %s\nArrival-Date: %s\n\n"
               "Final-Recipient: rfc822; %s\nOriginal-Recipient: rfc822;%s\nAction: %s\nStatus: %s\n"
               "Diagnostic-Code: smtp; %s\n" % (qid, rfc5322(orig_ts, 60), rcpt, rcpt,
                                                "delayed" if status.startswith("4") else "failed", status, diag))
        orig_headers = ("Return-Path: <support@example.com>\nFrom: Support Team <support@example.com>\nTo: %s\n"
                        "Subject: %s\nDate: %s\nMessage-ID: <ticket-%d@example.com>\nMIME-Version: 1.0\n"
                        "Content-Type: text/plain; charset=utf-8\nAuto-Submitted: auto-generated\n"
                        % (rcpt, encode_header("Re: " + orig_subj, rng), rfc5322(orig_ts, berlin_offset(orig_ts)), rng.randint(1000, 999999)))
        h = ["Return-Path: <>",
             "Received: by mx1.example.com (Postfix)\n\tid %s; %s" % (qid, rfc5322(ts, berlin_offset(ts)))]
        h.append("From: MAILER-DAEMON@mx1.example.com (Mail Delivery System)")
        h.append("To: support@example.com")
        h.append("Subject: " + encode_header(subj, rng))
        h.append("Date: " + rfc5322(ts, berlin_offset(ts)))
        h.append("Message-ID: <%d.%s@mx1.example.com>" % (i, qid))
        h.append("Auto-Submitted: auto-replied")
        h.append("MIME-Version: 1.0")
        h.append('Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="%s"' % b)
        body = ("This is a MIME-encapsulated message.\n\n--%s\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
                "--%s\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n%s\n"
                "--%s\nContent-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n%s\n--%s--\n"
                % (b, human, b, dsn, b, orig_headers, b))
        return "MAILER-DAEMON", ts, "\n".join(h) + "\n\n" + body

    def list_post(self, i, ts):
        rng = self.rng
        name, title, lang, sents = rng.choice(LISTS)
        first, last, email, _ = self.person(lang)
        s = self.slots(lang, email, ts)
        text = [rng.choice(GREET[lang]).format_map(s), ""]
        for p in rng.sample(sents, rng.randint(2, len(sents))):
            text.extend(wrap(p.format_map(s)))
            text.append("")
        text += [rng.choice(SIGNOFF[lang]), first, "",
                 "_______________________________________________",
                 "%s mailing list -- %s@lists.example.org" % (name, name),
                 "To unsubscribe send an email to %s-leave@lists.example.org" % name]
        topic = re.split(r"[.:?,]", rng.choice(sents))[0]
        if len(topic) > 50:
            topic = topic[:50].rsplit(" ", 1)[0] + " ..."
        subj = "[%s] %s%s" % (name, rng.choice(["Re: ", ""]), topic)
        dom = email.split("@")[1]
        h = ["Return-Path: <%s-bounces@lists.example.org>" % name]
        h.extend(self.received("lists.example.org", ts, 2))
        disp = "%s %s" % (first, last)
        h.append("From: %s <%s>" % (disp if disp.isascii() else encode_header(disp, rng), email))
        h.append("To: %s@lists.example.org" % name)
        h.append("Subject: " + encode_header(subj, rng))
        h.append("Date: " + rfc5322(ts, berlin_offset(ts)))
        h.append("Message-ID: <%d.%x@%s>" % (i, rng.randrange(16 ** 10), dom))
        h.append("List-Id: %s <%s.lists.example.org>" % (encode_header(title, rng), name))
        h.append("List-Unsubscribe: <mailto:%s-leave@lists.example.org>" % name)
        h.append("List-Post: <mailto:%s@lists.example.org>" % name)
        h.append("Precedence: list")
        h.append("MIME-Version: 1.0")
        h.append("Content-Type: text/plain; charset=utf-8")
        h.append("Content-Transfer-Encoding: 8bit")
        return "%s-bounces@lists.example.org" % name, ts, "\n".join(h) + "\n\n" + "\n".join(text) + "\n"

    def message(self, i):
        rng = self.rng
        # In order through the year, kept 6 hours from its ends so that every local date stays in 2026.
        ts = YEAR_START + 21600 + int((i + rng.random()) * (YEAR_SECONDS - 43200) / self.n)
        r = rng.random()
        if r < 0.025:
            return self.bounce(i, ts)
        if r < 0.05:
            return self.auto_reply(i, ts)
        if r < 0.065:
            return self.list_post(i, ts)
        return self.customer(i, ts)


FROM_LINE = re.compile(r"^(>*From )", re.M)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    g = Gen(a.n, a.seed)
    total = 0
    t0 = time.perf_counter()
    with open(a.out, "wb", buffering=1 << 20) as f:
        for i in range(a.n):
            sender, ts, msg = g.message(i)
            # mboxrd: header lines never start with "From " (the field has a colon), so the whole text is escaped.
            msg = FROM_LINE.sub(r">\1", msg)
            if not msg.endswith("\n"):
                msg += "\n"
            data = ("From %s %s\n" % (sender, asctime(ts))).encode() + msg.encode("utf-8") + b"\n"
            f.write(data)
            total += len(data)
    dt = time.perf_counter() - t0
    print("%s: %d messages, %d bytes (%.2f KB a message), %.1f s" % (a.out, a.n, total, total / max(1, a.n) / 1000, dt))


if __name__ == "__main__":
    sys.exit(main())
