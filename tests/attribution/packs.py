"""Realistic source packs for the evaluation set: one topic per language, sources of every class.

Each pack has an official page (canonical), an encyclopedia article
(community, open licence), a review or listing (aggregator) and a paywalled
article (denied), each a whole page (facts among ordinary text), and three
fact sentences as a model would write them from the first three sources.
All text is written for these tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from attribution import Source


@dataclass(frozen=True)
class Pack:
    lang: str
    official: Source
    wiki: Source
    review: Source
    paywalled: Source
    fact_official: str  # written from the official page
    fact_wiki: str  # written from the encyclopedia
    fact_paywalled: str  # only the paywalled article says this
    own: str  # the model's own sentence, supported by nothing
    heading: str
    query: str
    official_name: str
    wiki_name: str = "Wikipedia"


def _filler(lang: str) -> str:
    lines = {
        "en": "Visitors often ask about accessibility, lockers and guided tours. Photography without flash is allowed in most rooms.",
        "de": "Besucher fragen oft nach Barrierefreiheit, Schließfächern und Führungen. Fotografieren ohne Blitz ist in den meisten Räumen erlaubt.",
        "fr": "Les visiteurs posent souvent des questions sur l'accessibilité, les consignes et les visites guidées. La photographie sans flash est autorisée dans la plupart des salles.",
        "es": "Los visitantes preguntan a menudo por la accesibilidad, las taquillas y las visitas guiadas. Se permite fotografiar sin flash en la mayoría de las salas.",
        "it": "I visitatori chiedono spesso dell'accessibilità, degli armadietti e delle visite guidate. Le fotografie senza flash sono consentite nella maggior parte delle sale.",
        "pt": "Os visitantes perguntam muitas vezes sobre acessibilidade, cacifos e visitas guiadas. É permitido fotografar sem flash na maioria das salas.",
        "nl": "Bezoekers vragen vaak naar toegankelijkheid, kluisjes en rondleidingen. Fotograferen zonder flits is in de meeste zalen toegestaan.",
        "ru": "Посетители часто спрашивают о доступности, камерах хранения и экскурсиях. Фотографировать без вспышки разрешено в большинстве залов.",
    }
    return " ".join([lines[lang]] * 6)


def _pack(
    lang: str,
    host: str,
    official_name: str,
    official: str,
    wiki_host: str,
    wiki: str,
    review_title: str,
    review: str,
    paywalled: str,
    fact_official: str,
    fact_wiki: str,
    fact_paywalled: str,
    own: str,
    heading: str,
    query: str,
) -> Pack:
    pad = _filler(lang)
    return Pack(
        lang=lang,
        official=Source(
            url=f"https://{host}/visit", title=f"{official_name}", text=f"{official}\n\n{pad}",
            source_class="canonical", publisher=official_name,
        ),
        wiki=Source(
            url=f"https://{wiki_host}/wiki/Article", title="Article", text=f"{pad}\n\n{wiki}\n\n{pad}",
            source_class="community", platform="wikipedia",
        ),
        review=Source(
            url="https://www.tripadvisor.com/Attraction_Review-1", title=review_title,
            text=f"{review}\n\n{pad}", source_class="aggregator",
        ),
        paywalled=Source(
            url="https://paper.example/article", title="Exclusive", text=f"{paywalled}\n\n{pad}",
            source_class="canonical", decisions={"ai-input": False},
            decision_reasons={"ai-input": ("paywall: isAccessibleForFree=false",)},
        ),
        fact_official=fact_official, fact_wiki=fact_wiki, fact_paywalled=fact_paywalled, own=own,
        heading=heading, query=query, official_name=official_name,
    )  # fmt: skip


PACKS: dict[str, Pack] = {
    "en": _pack(
        "en", "www.britishmuseum.org", "the British Museum",
        "The museum is open daily from 10.00 to 17.00 and until 20.30 on Fridays. Entry to the permanent collection is free for every visitor.",
        "en.wikipedia.org",
        "The British Museum was founded in 1753 and opened to the public in 1759 in Montagu House in Bloomsbury.",
        "British Museum reviews",
        "Absolutely loved the Egyptian rooms, although the queues at the main entrance were long in the morning.",
        "A leaked memo shows the museum plans to charge foreign visitors twenty pounds from next spring.",
        "The museum is open daily from 10.00 to 17.00 and until 20.30 on Fridays.",
        "The British Museum was founded in 1753 and opened to the public in 1759 in Montagu House.",
        "A leaked memo shows the museum plans to charge foreign visitors twenty pounds from next spring.",
        "Plan a morning visit if you want to avoid the busiest galleries.",
        "Visiting the British Museum",
        "When is the British Museum open?",
    ),
    "de": _pack(
        "de", "www.berlin.de", "Berlin.de",
        "Das Parken in der Zone A kostet 4 Euro pro Stunde und ist werktags von 9 bis 20 Uhr gebührenpflichtig. Anwohner können einen Parkausweis beantragen.",
        "de.wikipedia.org",
        "Die Parkraumbewirtschaftung in Berlin wurde 1995 in der Innenstadt eingeführt und seitdem schrittweise ausgeweitet.",
        "Parken in Berlin Erfahrungen",
        "Die Parkautomaten nehmen inzwischen auch Karten, aber die Parkplatzsuche dauert trotzdem ewig.",
        "Nach internen Unterlagen will der Senat die Gebühren im kommenden Jahr auf sechs Euro erhöhen.",
        "Das Parken in der Zone A kostet 4 Euro pro Stunde und ist werktags von 9 bis 20 Uhr gebührenpflichtig.",
        "Die Parkraumbewirtschaftung in Berlin wurde 1995 in der Innenstadt eingeführt und seitdem schrittweise ausgeweitet.",
        "Nach internen Unterlagen will der Senat die Gebühren im kommenden Jahr auf sechs Euro erhöhen.",
        "Am besten fahren Sie mit der U-Bahn in die Innenstadt.",
        "Parken in Berlin",
        "Was kostet das Parken in Berlin?",
    ),
    "fr": _pack(
        "fr", "www.service-public.fr", "Service-Public.fr",
        "Le passeport d'un majeur est valable dix ans et celui d'un mineur est valable cinq ans. La demande se fait en mairie sur rendez-vous.",
        "fr.wikipedia.org",
        "Le passeport biométrique a été introduit en France en 2009 et contient une puce avec les empreintes digitales du titulaire.",
        "Avis sur le passeport",
        "Le rendez-vous a pris trois semaines mais la remise du passeport a été très rapide.",
        "Selon une note interne, le ministère prévoit de doubler le prix du timbre fiscal l'an prochain.",
        "Le passeport d'un majeur est valable dix ans et celui d'un mineur est valable cinq ans.",
        "Le passeport biométrique a été introduit en France en 2009 et contient une puce avec les empreintes digitales du titulaire.",
        "Selon une note interne, le ministère prévoit de doubler le prix du timbre fiscal l'an prochain.",
        "Pensez à vérifier la date d'expiration avant de réserver un voyage.",
        "Durée de validité du passeport",
        "Combien de temps est valable un passeport ?",
    ),
    "es": _pack(
        "es", "www.museodelprado.es", "el Museo del Prado",
        "El museo abre de lunes a sábado de 10 a 20 horas y los domingos de 10 a 19 horas. La entrada general cuesta 15 euros.",
        "es.wikipedia.org",
        "El Museo del Prado fue inaugurado en 1819 y alberga una de las colecciones de pintura europea más importantes del mundo.",
        "Opiniones sobre el Prado",
        "Las Meninas merecen la visita, aunque las salas estaban llenas de grupos escolares por la mañana.",
        "Según documentos internos, el museo estudia cerrar los lunes a partir del próximo otoño.",
        "El museo abre de lunes a sábado de 10 a 20 horas y los domingos de 10 a 19 horas.",
        "El Museo del Prado fue inaugurado en 1819 y alberga una de las colecciones de pintura europea más importantes del mundo.",
        "Según documentos internos, el museo estudia cerrar los lunes a partir del próximo otoño.",
        "Conviene llegar temprano para evitar las colas de la taquilla.",
        "Visitar el Prado",
        "¿Cuál es el horario del Museo del Prado?",
    ),
    "it": _pack(
        "it", "www.colosseo.it", "il Parco archeologico del Colosseo",
        "Il biglietto ordinario costa 18 euro e comprende il Colosseo, il Foro Romano e il Palatino. L'ingresso è gratuito la prima domenica del mese.",
        "it.wikipedia.org",
        "Il Colosseo fu inaugurato nell'anno 80 sotto l'imperatore Tito e poteva ospitare più di cinquantamila spettatori.",
        "Recensioni sul Colosseo",
        "La visita guidata dei sotterranei è stata bellissima, ma la coda all'ingresso era lunghissima.",
        "Secondo documenti riservati, il parco intende introdurre un limite giornaliero di visitatori.",
        "Il biglietto ordinario costa 18 euro e comprende il Colosseo, il Foro Romano e il Palatino.",
        "Il Colosseo fu inaugurato nell'anno 80 sotto l'imperatore Tito e poteva ospitare più di cinquantamila spettatori.",
        "Secondo documenti riservati, il parco intende introdurre un limite giornaliero di visitatori.",
        "Conviene prenotare online per evitare la coda alla biglietteria.",
        "Visitare il Colosseo",
        "Quanto costa il biglietto del Colosseo?",
    ),
    "pt": _pack(
        "pt", "www.patrimoniocultural.gov.pt", "o Património Cultural",
        "A Torre de Belém está aberta de terça a domingo das 10 às 18 horas. O bilhete normal custa 8 euros por pessoa.",
        "pt.wikipedia.org",
        "A Torre de Belém foi construída entre 1514 e 1520 e é classificada como Património Mundial pela UNESCO desde 1983.",
        "Avaliações da Torre de Belém",
        "A vista do rio é linda, mas a escada em caracol é estreita e a fila demorou muito.",
        "Segundo documentos internos, a torre vai fechar para obras durante todo o próximo inverno.",
        "A Torre de Belém está aberta de terça a domingo das 10 às 18 horas.",
        "A Torre de Belém foi construída entre 1514 e 1520 e é classificada como Património Mundial pela UNESCO desde 1983.",
        "Segundo documentos internos, a torre vai fechar para obras durante todo o próximo inverno.",
        "Vale a pena chegar cedo para evitar as filas mais longas.",
        "Visitar a Torre de Belém",
        "Qual é o horário da Torre de Belém?",
    ),
    "nl": _pack(
        "nl", "www.rijksmuseum.nl", "het Rijksmuseum",
        "Het museum is elke dag open van 9.00 tot 17.00 uur. Een toegangskaart voor volwassenen kost 25 euro en kinderen gaan gratis naar binnen.",
        "nl.wikipedia.org",
        "Het Rijksmuseum werd in 1800 opgericht en verhuisde in 1885 naar het gebouw van Pierre Cuypers aan het Museumplein.",
        "Rijksmuseum ervaringen",
        "De Nachtwacht was indrukwekkend, maar het was erg druk in de Eregalerij rond het middaguur.",
        "Volgens interne stukken wil het museum de toegangsprijs volgend jaar verhogen naar dertig euro.",
        "Het museum is elke dag open van 9.00 tot 17.00 uur.",
        "Het Rijksmuseum werd in 1800 opgericht en verhuisde in 1885 naar het gebouw van Pierre Cuypers aan het Museumplein.",
        "Volgens interne stukken wil het museum de toegangsprijs volgend jaar verhogen naar dertig euro.",
        "Koop uw kaartje vooraf online om de rij bij de kassa te vermijden.",
        "Het Rijksmuseum bezoeken",
        "Hoe laat is het Rijksmuseum open?",
    ),
    "ru": _pack(
        "ru", "www.hermitagemuseum.org", "Эрмитаж",
        "Музей открыт со вторника по воскресенье с 10:30 до 18:00, по средам и пятницам до 21:00. Входной билет стоит 500 рублей.",
        "ru.wikipedia.org",
        "Государственный Эрмитаж был основан в 1764 году и сегодня является одним из крупнейших художественных музеев мира.",
        "Отзывы об Эрмитаже",
        "Залы с импрессионистами произвели огромное впечатление, но очередь в кассу была очень длинной.",
        "Согласно внутренним документам, музей планирует закрыть Малый Эрмитаж на реставрацию следующей зимой.",
        "Музей открыт со вторника по воскресенье с 10:30 до 18:00, по средам и пятницам до 21:00.",
        "Государственный Эрмитаж был основан в 1764 году и сегодня является одним из крупнейших художественных музеев мира.",
        "Согласно внутренним документам, музей планирует закрыть Малый Эрмитаж на реставрацию следующей зимой.",
        "Лучше покупать билеты онлайн, чтобы не стоять в очереди.",
        "Посещение Эрмитажа",
        "Когда открыт Эрмитаж?",
    ),
}
