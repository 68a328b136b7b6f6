#!/usr/bin/env python3
"""Ordinary e-mails an agent reads in an inbox, for training the classifier: the benign side of money,
accounts and passwords.

Why: an agent that reads a user's inbox passes every message to the guard as a tool output, and most
of an inbox is machine-written mail: card charges, transfers, receipts, invoices, password resets,
sign-in codes, shipping notices, calendar invitations, ticket updates. None of the training sources
had any. Measured on an inbox the classifier never saw (BIPIA's e-mails, `scripts/external_sources.py`),
**27 of 100 were flagged**, bank notifications at 0.9-0.99: the attack corpora speak of accounts,
payments, credentials and "reply to this e-mail" (phishing-style exfiltration, secret extraction), and
no benign row did.

The rows come from a small grammar written for this file (not from any e-mail corpus): a template per
kind of message, each filled several times from slot lists (names, merchants, amounts, masked card
numbers, dates, reference ids), in three layouts an e-mail tool prints (RFC-style headers, a
`Subject:` line, the body alone), English with a few German, French and Spanish templates. Synthetic,
and marked so (`source: grammar:email/<kind>`); the rows of one template share a `subcategory`, so the
trainer weighs the template, not its copies.

    python3 scripts/benign_emails.py > target/benign_emails.jsonl

Deterministic: choices are made by hashes, never at random.
"""
import hashlib
import json

FILLS_PER_TEMPLATE = 3

FIRST = ["David", "Maria", "Chen", "Aisha", "Tom", "Sofia", "Raj", "Emma", "Lukas", "Fatima", "Jonas", "Priya",
         "Michael", "Yuki", "Carlos", "Olivia"]
LAST = ["Patterson", "Nguyen", "Schmidt", "Okafor", "Garcia", "Kowalski", "Haddad", "Brown", "Rossi", "Tanaka"]
COMPANIES = ["Northwind Labs", "Bluebird Analytics", "Acme Robotics", "Greenfield Studio", "Harbor Freight Co",
             "Lumen Health", "Pinecone Bakery", "Atlas Logistics", "Riverbend Consulting", "Kestrel Software"]
BANKS = ["Mercury", "Chase", "Brex", "Wise", "Revolut", "Monzo", "N26", "Wells Fargo", "Capital One", "Ramp",
         "American Express", "Barclays"]
MERCHANTS = ["AMAZON WEB SERVICES", "GITHUB, INC.", "Google Workspace", "SLACK TECHNOLOGIES", "Uber Trip",
             "DELTA AIR LINES", "Starbucks", "WeWork", "Notion Labs", "Figma", "OFFICE DEPOT", "Lyft Ride",
             "Zoom Video", "DigitalOcean", "Adobe", "Shell Oil", "Whole Foods Market", "Airbnb"]
SERVICES = ["Upwork", "Deel", "Gusto", "Stripe", "PayPal", "Shopify", "QuickBooks", "Xero", "Dropbox", "Atlassian",
            "Linear", "Vercel", "Heroku", "Zendesk", "HubSpot", "Calendly"]
CITIES = ["San Francisco, CA 94107", "Austin, TX 78701", "New York, NY 10013", "Seattle, WA 98101",
          "Berlin 10115", "London EC1V 9HX", "Toronto, ON M5V 2T6", "Dublin 2"]
PRODUCTS = ["USB-C charging cable", "ergonomic keyboard", "27-inch monitor", "noise-cancelling headphones",
            "standing desk mat", "espresso beans (1 kg)", "running shoes", "paperback: The Pragmatic Programmer",
            "laptop sleeve", "desk lamp"]
PLANS = ["Pro", "Team", "Business", "Starter", "Premium", "Plus"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
TOPICS = ["the Q3 budget review", "the onboarding redesign", "next week's offsite", "the vendor contract",
          "the hiring plan", "the customer interview notes", "the release checklist", "the board deck"]
CITY_PAIRS = [("SFO", "JFK"), ("LHR", "BER"), ("YYZ", "YVR"), ("AUS", "SEA"), ("DUB", "CDG"), ("NRT", "SFO")]


def h(s: str) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16)


def pick(options: list, key: str):
    return options[h(key) % len(options)]


def slots(key: str) -> dict:
    """One set of slot values, chosen by hashes of `key`."""
    n = h(key)
    first, last = pick(FIRST, key + "f"), pick(LAST, key + "l")
    amount = (n % 900000) / 100 + 5
    day = n % 28 + 1
    month = pick(MONTHS, key + "m")
    year = 2021 + n % 5
    hour, minute = n % 24, (n // 24) % 60
    o, d = pick(CITY_PAIRS, key + "c")
    return {
        "first": first,
        "name": f"{first} {last}",
        "other": f"{pick(FIRST, key + 'o')} {pick(LAST, key + 'p')}",
        "company": pick(COMPANIES, key + "co"),
        "bank": pick(BANKS, key + "b"),
        "merchant": pick(MERCHANTS, key + "me"),
        "service": pick(SERVICES, key + "s"),
        "city": pick(CITIES, key + "ci"),
        "product": pick(PRODUCTS, key + "pr"),
        "plan": pick(PLANS, key + "pl"),
        "topic": pick(TOPICS, key + "t"),
        "amount": f"${amount:,.2f}",
        "amount2": f"${amount / 3 + 1:,.2f}",
        "eur": f"{amount:,.2f} €".replace(",", "X").replace(".", ",").replace("X", "."),
        "last4": f"{n % 10000:04d}",
        "date": f"{pick(DAYS, key + 'd')}, {day:02d} {month} {year}",
        "short_date": f"{month} {day}, {year}",
        "time": f"{hour:02d}:{minute:02d}",
        "ref": f"{n % 10**9:09d}",
        "order": f"{n % 900 + 100}-{n % 9000000 + 1000000}-{n % 9000 + 1000}",
        "code": f"{n % 900000 + 100000}",
        "ticket": f"{n % 90000 + 10000}",
        "tracking": f"1Z{n % 10**10:010d}",
        "flight": f"{pick(['DL', 'UA', 'BA', 'LH', 'AC', 'EI'], key + 'a')} {n % 900 + 100}",
        "origin": o,
        "dest": d,
        "seat": f"{n % 30 + 1}{'ABCDEF'[n % 6]}",
        "ip": f"{n % 200 + 20}.{n % 250}.{(n // 7) % 250}.{(n // 11) % 250}",
        "device": pick(["Chrome on Windows", "Safari on iPhone", "Firefox on Ubuntu", "Edge on macOS"], key + "dv"),
        "domain": pick(["example.com", "northwind.io", "acme.dev", "bluebird.co"], key + "dm"),
        "pct": f"{n % 40 + 5}",
        "n": f"{n % 12 + 2}",
    }


# kind -> (subject, body) templates. Bodies use the slots above; {first} is the reader.
TEMPLATES = {
    "card_charge": [
        ("Your card has been charged {amount} by {merchant}",
         "Hi {first},\n\nYour {bank} debit card ••{last4} was charged {amount} by {merchant} on {short_date}.\n"
         "The settled amount may differ from this initial authorization.\n\nIf you don't recognize this "
         "transaction, you can dispute it from the Transactions page.\n\nThe {bank} Team"),
        ("ACH debit of {amount} from {merchant}",
         "Hello {first},\n\n{merchant} pulled {amount} from the operating account ending {last4} by direct "
         "debit on {short_date}. Debits like this are set up by the payee with your routing and account "
         "numbers.\n\nQuestions? Write back to this message and a banker will get in touch.\n\n{bank}\n{city}"),
        ("Transaction alert: {amount} at {merchant}",
         "A purchase of {amount} was made with your card ending in {last4} at {merchant} on {short_date} at "
         "{time}.\n\nAvailable balance: {amount2}\n\nYou are receiving this alert because you set up "
         "notifications for purchases over $100.00. Manage alerts in the {bank} app."),
    ],
    "transfer": [
        ("Wire to {other} submitted",
         "{first}, your outgoing wire is submitted.\n\nRecipient: {other}\nAmount: {amount}\nDebited from: "
         "business account ending {last4}\nReference: {ref}\nExpected to arrive in 1-2 business days\n\n"
         "Need to cancel? Call us before 4 pm ET today.\n\n{bank} Business Banking"),
        ("{other} sent you {amount}",
         "Hi {first},\n\nGood news: {other} sent you {amount}. The money is now in your {bank} account "
         "••{last4} and available to spend.\n\nNote from {other}: \"for {topic}\"\n\nView transaction"),
        ("Your transfer of {amount} is on its way",
         "{first}, your transfer is on its way.\n\nAmount: {amount}\nTo: {other}\nFrom: {bank} ••{last4}\n"
         "Transfer ID: {ref}\n\nMost transfers arrive within one business day. We'll email you when it "
         "lands."),
    ],
    "bank_details": [
        ("Your bank account details were verified",
         "Hi {first},\n\nThe bank account details you added to {service} (account ending {last4}) have been "
         "verified with two small deposits. Payments you initiate from now on will be debited from this "
         "account.\n\nIf you did not add this account, contact support right away.\n\n{service} Payments"),
        ("Direct debit set up with {company}",
         "Dear {name},\n\n{company} has set up a direct debit using your account details. The first payment "
         "of {amount} will be collected on or after {short_date}; later payments will be collected monthly.\n\n"
         "Account holder: {name}\nAccount number ending: {last4}\nReference: DD{ref}\n\nYou can cancel the "
         "mandate at any time by contacting your bank."),
        ("Payroll for {short_date} has been processed",
         "Hi {first},\n\nPayroll for {company} was approved and will be debited from your funding account "
         "ending in {last4} ({amount}). Your {n} employees will be paid on {short_date} using the bank "
         "details they entered during onboarding.\n\nView the payroll summary in {service}."),
        ("Update your payment details",
         "Hi {first},\n\nThe card we have on file for your {service} account (ending in {last4}) expires at "
         "the end of this month. To avoid any interruption, please update your payment details before "
         "{short_date}.\n\nUpdate card details\n\nAlready did this? Then you can ignore this reminder."),
        ("Tax payment of {amount} initiated",
         "A federal tax payment of {amount} was initiated from the account ending {last4} on {short_date}.\n"
         "Confirmation: EFT{ref}\n\nThis payment was scheduled by {other}. Keep this message for your tax "
         "records; no action is needed."),
    ],
    "receipt": [
        ("We got your payment",
         "Thanks, {first} - we got your payment.\n\nPaid on {short_date}\nTotal {amount}\nCard ending in "
         "{last4}\nConfirmation number {ref}\n\nYour balance is now $0.00. Keep this email for your "
         "records.\n\n{service} | Help Center | Privacy"),
        ("Your receipt from {service} #{ref}",
         "Receipt from {service}\n\nAmount paid {amount}\nDate paid {short_date}\nPayment method Visa - "
         "{last4}\n\nSummary\n{plan} plan (monthly) {amount}\nTax $0.00\nTotal {amount}\n\nIf you have any "
         "questions, contact us at billing@{domain}."),
        ("Your order #{order} has been placed",
         "Hello {first},\n\nThank you for your order. We'll let you know once your item has shipped.\n\n"
         "Order #{order}\n1 x {product} {amount}\nShipping: FREE\nOrder total: {amount}\n\nShip to: {name}, "
         "{city}\n\nYou can view or change your order in Your Orders."),
    ],
    "invoice": [
        ("Invoice {ref} from {company} is due {short_date}",
         "Hi {first},\n\nThis is a friendly reminder that invoice {ref} for {amount} is due on {short_date}.\n\n"
         "Pay online: https://pay.{domain}/invoice/{ref}\n\nIf you've already paid, please disregard this "
         "message. Thank you for your business!\n\n{company}\nAccounts Receivable"),
        ("Payment failed for your {service} subscription",
         "Hi {first},\n\nWe weren't able to charge your card ending in {last4} for your {service} {plan} "
         "subscription ({amount}).\n\nPlease update your payment details within 7 days to keep your account "
         "active. We'll retry the charge automatically in 3 days.\n\nUpdate payment method\n\nThe {service} "
         "billing team"),
        ("Your {service} invoice for {short_date}",
         "Your invoice is available.\n\nInvoice number: INV-{ref}\nBilling period: {short_date}\n"
         "{plan} plan, {n} seats: {amount}\nAmount due: {amount}\n\nThe amount will be charged to your card "
         "on file. Download the PDF from your billing settings."),
    ],
    "payout": [
        ("Where should we send your money?",
         "Hi {first},\n\nYour {service} balance is {amount}. Link a bank account or a debit card and we can "
         "start paying you out on your chosen schedule.\n\nLink an account\n\nThe {service} team\n{city}"),
        ("Your payout of {amount} is scheduled",
         "Hi {first},\n\nA payout of {amount} to your bank account ending in {last4} is scheduled for "
         "{short_date}. Payouts usually take 2-3 business days to appear in your account.\n\nPayout ID: "
         "po_{ref}\n\nView payout details in your dashboard."),
    ],
    "password": [
        ("Reset your {service} password",
         "Hi {first},\n\nWe received a request to reset the password for your {service} account. Use the "
         "button below to set a new password. This link is only valid for the next 24 hours.\n\n"
         "Reset your password\n\nIf you did not request a password reset, you can safely ignore this email; "
         "your password will not change.\n\nThanks,\nThe {service} Team"),
        ("Your {service} verification code",
         "Your verification code is {code}.\n\nEnter this code to finish signing in. It expires in 10 "
         "minutes. Never share this code with anyone; {service} staff will never ask you for it.\n\n"
         "If you didn't try to sign in, change your password."),
        ("New sign-in to your {service} account",
         "Hi {first},\n\nWe noticed a new sign-in to your {service} account.\n\nDevice: {device}\n"
         "Location: {city}\nIP address: {ip}\nTime: {date} {time} UTC\n\nIf this was you, you don't need "
         "to do anything. If not, secure your account by resetting your password and turning on two-factor "
         "authentication."),
        ("Confirm your email address",
         "Welcome to {service}, {first}!\n\nPlease confirm your email address so we know it's really you. "
         "Click the link below or paste it into your browser:\n\nhttps://app.{domain}/confirm?token={ref}\n\n"
         "If you didn't create an account, just ignore this message."),
    ],
    "shipping": [
        ("Your package has shipped",
         "Good news, {first}! Your {product} is on the way.\n\nCarrier: UPS\nTracking number: {tracking}\n"
         "Estimated delivery: {short_date}\n\nTrack your package. Questions about your order? Reply to this "
         "email and our team will help."),
        ("Delivered: your order #{order}",
         "Your package was delivered on {short_date} at {time}. It was left at the front door.\n\n"
         "1 x {product}\n\nIf you can't find your package, let us know within 48 hours."),
    ],
    "subscription": [
        ("Your {service} trial ends in 3 days",
         "Hi {first},\n\nYour free trial of {service} {plan} ends on {short_date}. After that your card "
         "ending in {last4} will be charged {amount} per month unless you cancel.\n\nWant to keep your "
         "workspace? You don't need to do anything. To change plans, visit Billing settings."),
        ("Your {service} subscription has renewed",
         "Thanks for being a {service} customer. Your {plan} subscription renewed on {short_date} for "
         "{amount}.\n\nNext billing date: one year from today\n\nManage your subscription or turn off "
         "auto-renewal at any time from your account page."),
    ],
    "travel": [
        ("Your flight receipt - Booking {ref}",
         "Thank you for booking with us, {first}.\n\nFlight {flight} {origin} to {dest}\nDeparts {date} "
         "{time}\nSeat {seat}\nPassenger: {name}\n\nFare {amount}\nTaxes and fees {amount2}\nCharged to "
         "card ending in {last4}\n\nCheck in online 24 hours before departure."),
        ("Your trip to {dest} is coming up",
         "Hi {first}, your trip is in 3 days.\n\nFlight {flight}, {origin} → {dest}, {date} at {time}\n"
         "Hotel confirmation: {ref}\n\nDon't forget: bring a valid photo ID. You can add your frequent flyer "
         "number in Manage booking."),
    ],
    "calendar": [
        ("Invitation: {topic} @ {date} {time}",
         "{other} has invited you to a meeting.\n\n{topic}\nWhen: {date} {time} - 45 min\nWhere: Zoom "
         "(link in the invitation)\nGuests: {name}, {other}\n\nGoing? Yes - Maybe - No\n\nInvitation from "
         "Google Calendar. You are receiving this email because you are an attendee of the event."),
        ("Updated invitation: {topic}",
         "This event has been changed.\n\n{topic}\nNew time: {date} {time}\nOrganizer: {other}\n\n"
         "Reply to let the organizer know whether you can attend."),
    ],
    "support": [
        ("[Ticket #{ticket}] Re: problem with my invoice",
         "Hi {first},\n\nThanks for reaching out. I've looked into your account and refunded the duplicate "
         "charge of {amount}; you'll see it on your card ending in {last4} within 5-10 business days.\n\n"
         "Is there anything else I can help you with? Just reply to this email to update your ticket.\n\n"
         "Best,\n{other}\n{service} Support"),
        ("Your request #{ticket} has been resolved",
         "Your request ({ticket}) has been marked as solved. To reopen it, reply to this email.\n\n"
         "How would you rate the support you received? Good, I'm satisfied / Bad, I'm unsatisfied"),
    ],
    "notification": [
        ("{other} invited you to join {company} on {service}",
         "{other} has invited you to collaborate in the {company} workspace on {service}.\n\n"
         "Accept invitation\n\nThis invitation will expire in 7 days. If you weren't expecting it, you can "
         "ignore this email."),
        ("{other} commented on \"{topic}\"",
         "{other} left a comment on {topic}:\n\n\"Looks good to me, but can we move the numbers table above "
         "the summary?\"\n\nReply to this email to respond, or view the comment in {service}.\n\nYou're "
         "receiving this because you're a member of the document. Unsubscribe from these notifications."),
        ("{other} shared a document with you",
         "{other} shared \"{topic}\" with you and gave you edit access.\n\nOpen\n\n{service}: you received "
         "this email because {other} shared a file with you. Logo and trademarks belong to their owners."),
    ],
    "newsletter": [
        ("What's new in {service} this month",
         "Hi {first},\n\nHere's what we shipped in {short_date}:\n\n- Faster search across all your "
         "projects\n- A new API for exporting reports\n- Dark mode on mobile\n\nRead the full changelog on "
         "our blog. You're receiving this because you signed up for product updates. Unsubscribe | Update "
         "preferences"),
        ("{pct}% off everything this weekend",
         "This weekend only: take {pct}% off everything in the store with code WEEKEND{pct}.\n\n"
         "Shop now\n\nOffer ends Sunday at midnight. Exclusions apply. You are receiving this email because "
         "you opted in to marketing emails from {company}. Unsubscribe."),
    ],
    "colleague": [
        ("Re: {topic}",
         "Hi {first},\n\nThanks for sending this over. I went through the numbers and the totals match what "
         "finance sent on {short_date}, except the travel line, which should be {amount}. Could you update "
         "the sheet before Thursday?\n\nAlso, please ignore my earlier note about the deadline - it's still "
         "the end of the month.\n\nBest,\n{other}"),
        ("Quick question about {topic}",
         "Hey {first},\n\nDo you have ten minutes tomorrow to go over {topic}? I want to make sure we agree "
         "on the scope before I send it to {company}. Forward me the latest version when you can.\n\n"
         "Thanks!\n{other}"),
        ("Following up: {topic}",
         "Hi {first},\n\nJust following up on my email from last week about {topic}. Let me know if you need "
         "anything else from our side. The signed copy is attached.\n\nKind regards,\n{other}\n{company}\n"
         "{city}"),
    ],
    "de": [
        ("Ihre Zahlung von {eur} ist eingegangen",
         "Hallo {first},\n\nvielen Dank! Wir haben Ihre Zahlung von {eur} für Rechnung {ref} erhalten.\n\n"
         "Zahlungsart: Kreditkarte, endet auf {last4}\nDatum: {short_date}\n\nBei Fragen antworten Sie "
         "einfach auf diese E-Mail.\n\nIhr {service}-Team"),
        ("Passwort zurücksetzen",
         "Hallo {first},\n\nwir haben eine Anfrage erhalten, das Passwort für Ihr Konto zurückzusetzen. "
         "Klicken Sie auf den folgenden Link, um ein neues Passwort festzulegen. Der Link ist 24 Stunden "
         "gültig.\n\nFalls Sie dies nicht angefordert haben, ignorieren Sie diese E-Mail einfach."),
    ],
    "fr": [
        ("Votre commande n° {order} a été expédiée",
         "Bonjour {first},\n\nBonne nouvelle : votre commande a été expédiée.\n\nNuméro de suivi : "
         "{tracking}\nLivraison prévue : {short_date}\n\nPour toute question, répondez simplement à cet "
         "e-mail.\n\nL'équipe {company}"),
        ("Votre code de vérification",
         "Votre code de vérification est {code}. Il expire dans 10 minutes.\n\nNe communiquez jamais ce "
         "code. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message."),
    ],
    "es": [
        ("Se realizó un cargo de {amount} a tu tarjeta",
         "Hola {first}:\n\nSe realizó un cargo de {amount} a tu tarjeta terminada en {last4} en {merchant} "
         "el {short_date}.\n\nSi no reconoces este movimiento, comunícate con nosotros desde la app de "
         "{bank}."),
        ("Restablece tu contraseña",
         "Hola {first}:\n\nRecibimos una solicitud para restablecer la contraseña de tu cuenta de {service}. "
         "Usa el enlace de abajo para crear una nueva. Si no la solicitaste, puedes ignorar este correo."),
    ],
}


def layout(subject: str, body: str, s: dict, key: str) -> str:
    """The message as an e-mail tool prints it: one of three layouts, chosen by hash."""
    sender = f"{s['bank'] if '{bank}' in key else s['service']} <no-reply@{s['domain']}>"
    style = h(key + "layout") % 3
    if style == 0:
        return f"From: {sender}\nTo: {s['name']} <{s['first'].lower()}@{s['domain']}>\nDate: {s['date']} " \
               f"{s['time']}:00 +0000\nSubject: {subject}\n\n{body}"
    if style == 1:
        return f"Subject: {subject}\n\n{body}"
    return body


def main() -> None:
    for kind, templates in TEMPLATES.items():
        for t, (subject, body) in enumerate(templates):
            for i in range(FILLS_PER_TEMPLATE):
                key = f"{kind}|{t}|{i}"
                s = slots(key)
                text = layout(subject.format(**s), body.format(**s), s, key)
                print(json.dumps({"text": text, "label": "benign", "category": "email",
                                  "subcategory": f"email/{kind}/{t}", "source": f"grammar:email/{kind}"},
                                 ensure_ascii=False))


if __name__ == "__main__":
    main()
