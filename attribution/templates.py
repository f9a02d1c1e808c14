"""Every sentence the shaper may insert, per language, and how dates are written.

Inserted text is the only text in a shaped answer that the model did not
write, so it is kept here, in one table per language, and nowhere else.
English, German, French, Spanish, Italian, Portuguese, Dutch and Russian are
built in; a policy can replace any phrase or add a language
(``[phrases.<code>]`` in TOML, see ``Policy.phrases``). For a language without
phrases the shaper inserts no prose at all: citation markers and the link
list only.

``{source}`` is the source's name (escaped for Markdown where it is
inserted), ``{date}`` a date written with ``months``, ``{license}`` a
licence name. German and Dutch put the finite verb second, so "Laut X, die
Schlacht ..." would be ungrammatical: they attribute with a parenthesis at
the end of the sentence (``according_prefix`` is empty).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class Phrases(BaseModel):
    """The phrases for one language (see the module docstring for the placeholders)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    according_prefix: str = ""
    according_suffix: str
    as_of_prefix: str = ""
    as_of_suffix: str
    code_credit: str
    code_licence: str
    code_removed: str
    read_full: str
    more_depth: str
    contested: str
    last_updated: str
    no_date: str
    sources_heading: str
    edit_history: str
    discussion: str
    updated_on: str
    item_on: str
    video_on: str
    months: tuple[str, ...]
    date_format: str = "{day} {month} {year}"
    # First words lowercased after an inserted prefix ("The" -> "the").
    lower_openers: tuple[str, ...] = ()

    def date(self, d: date) -> str:
        return self.date_format.format(day=d.day, month=self.months[d.month - 1], year=d.year)


_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

BUILT_IN: dict[str, Phrases] = {
    "en": Phrases(
        according_prefix="According to {source}, ",
        according_suffix=" (according to {source})",
        as_of_prefix="As of {date}, according to {source}, ",
        as_of_suffix=" (according to {source}, as of {date})",
        code_credit="The code above is from {source}.",
        code_licence=" Licence: {license}.",
        code_removed="The code is available at {source}.",
        read_full="Read the full text at {source}.",
        more_depth="There is more depth at {source}.",
        contested="This topic is contested; read the full article and its sources and discussion at {source}.",
        last_updated="{source} was last updated on {date}; see it for current information.",
        no_date="{source} gives no last-update date; see it for current information.",
        sources_heading="Sources:",
        edit_history="view edit history",
        discussion="see the discussion",
        updated_on="last updated {date}",
        item_on="“{title}” on {name}",
        video_on="the video “{title}” on {name}",
        months=tuple(_EN_MONTHS),
        lower_openers=tuple(
            ["despite", "because", "if", "for", "with", "by", "from", "under", "over", "between", "unlike", "following", "once", "until", "unless", "whether", "we", "you", "they", "all", "only", "even", "then", "today", "the", "a", "an", "in", "on", "at", "this", "that", "these", "those", "it", "its", "there", "their", "his", "her", "after", "before", "during", "when", "while", "since", "although", "though", "as", "some", "many", "most", "several", "one", "two", "three", "both", "each", "however", "use", "call", "run", "add", "set", "hold", "try", "make", "open", "click", "select", "install", "see", "check"]
        ),
    ),
    "de": Phrases(
        according_suffix=" (laut {source})",
        as_of_suffix=" (laut {source}, Stand {date})",
        code_credit="Der Code oben stammt aus {source}.",
        code_licence=" Lizenz: {license}.",
        code_removed="Der Code ist bei {source} verfügbar.",
        read_full="Den vollständigen Text finden Sie bei {source}.",
        more_depth="Ausführlicher bei {source}.",
        contested="Dieses Thema ist umstritten; den vollständigen Artikel mit Quellen und Diskussion finden Sie bei {source}.",
        last_updated="{source} wurde zuletzt am {date} aktualisiert; aktuelle Informationen finden Sie dort.",
        no_date="{source} nennt kein Aktualisierungsdatum; aktuelle Informationen finden Sie dort.",
        sources_heading="Quellen:",
        edit_history="Versionsgeschichte",
        discussion="Diskussion",
        updated_on="zuletzt aktualisiert am {date}",
        item_on="„{title}“ auf {name}",
        video_on="das Video „{title}“ auf {name}",
        months=tuple(
            ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
        ),
        date_format="{day}. {month} {year}",
    ),
    "fr": Phrases(
        according_prefix="Selon {source}, ",
        according_suffix=" (selon {source})",
        as_of_prefix="Au {date}, selon {source}, ",
        as_of_suffix=" (selon {source}, au {date})",
        code_credit="Le code ci-dessus provient de {source}.",
        code_licence=" Licence : {license}.",
        code_removed="Le code est disponible sur {source}.",
        read_full="Lisez le texte intégral sur {source}.",
        more_depth="Pour aller plus loin : {source}.",
        contested="Ce sujet est controversé ; lisez l'article complet, ses sources et la discussion sur {source}.",
        last_updated="{source} a été mis à jour le {date} ; consultez-le pour des informations à jour.",
        no_date="{source} n'indique pas de date de mise à jour ; consultez-le pour des informations à jour.",
        sources_heading="Sources :",
        edit_history="historique des modifications",
        discussion="discussion",
        updated_on="mis à jour le {date}",
        item_on="« {title} » sur {name}",
        video_on="la vidéo « {title} » sur {name}",
        months=tuple(
            ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
        ),
        lower_openers=tuple(["le", "la", "les", "l", "un", "une", "des", "en", "au", "aux", "ce", "cette", "ces", "il", "elle", "ils", "elles", "on"]),
    ),
    "es": Phrases(
        according_prefix="Según {source}, ",
        according_suffix=" (según {source})",
        as_of_prefix="A fecha de {date}, según {source}, ",
        as_of_suffix=" (según {source}, a fecha de {date})",
        code_credit="El código anterior procede de {source}.",
        code_licence=" Licencia: {license}.",
        code_removed="El código está disponible en {source}.",
        read_full="Lea el texto completo en {source}.",
        more_depth="Hay más detalles en {source}.",
        contested="Este tema es controvertido; lea el artículo completo, sus fuentes y la discusión en {source}.",
        last_updated="{source} se actualizó por última vez el {date}; consúltelo para obtener información actual.",
        no_date="{source} no indica fecha de actualización; consúltelo para obtener información actual.",
        sources_heading="Fuentes:",
        edit_history="historial de ediciones",
        discussion="discusión",
        updated_on="actualizado el {date}",
        item_on="«{title}» en {name}",
        video_on="el vídeo «{title}» en {name}",
        months=tuple(
            ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]
        ),
        date_format="{day} de {month} de {year}",
        lower_openers=tuple(["el", "la", "los", "las", "un", "una", "unos", "unas", "en", "este", "esta", "estos", "estas"]),
    ),
    "it": Phrases(
        according_prefix="Secondo {source}, ",
        according_suffix=" (secondo {source})",
        as_of_prefix="Al {date}, secondo {source}, ",
        as_of_suffix=" (secondo {source}, al {date})",
        code_credit="Il codice qui sopra proviene da {source}.",
        code_licence=" Licenza: {license}.",
        code_removed="Il codice è disponibile su {source}.",
        read_full="Leggi il testo completo su {source}.",
        more_depth="Maggiori dettagli su {source}.",
        contested="Questo tema è controverso; leggi l'articolo completo, le sue fonti e la discussione su {source}.",
        last_updated="{source} è stato aggiornato l'ultima volta il {date}; consultalo per informazioni aggiornate.",
        no_date="{source} non indica una data di aggiornamento; consultalo per informazioni aggiornate.",
        sources_heading="Fonti:",
        edit_history="cronologia delle modifiche",
        discussion="discussione",
        updated_on="aggiornato il {date}",
        item_on="«{title}» su {name}",
        video_on="il video «{title}» su {name}",
        months=tuple(
            ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"]
        ),
        lower_openers=tuple(["il", "lo", "la", "i", "gli", "le", "un", "uno", "una", "in", "questo", "questa", "questi", "queste"]),
    ),
    "pt": Phrases(
        according_prefix="Segundo {source}, ",
        according_suffix=" (segundo {source})",
        as_of_prefix="Em {date}, segundo {source}, ",
        as_of_suffix=" (segundo {source}, em {date})",
        code_credit="O código acima vem de {source}.",
        code_licence=" Licença: {license}.",
        code_removed="O código está disponível em {source}.",
        read_full="Leia o texto completo em {source}.",
        more_depth="Há mais detalhes em {source}.",
        contested="Este tema é controverso; leia o artigo completo, as suas fontes e a discussão em {source}.",
        last_updated="{source} foi atualizado pela última vez em {date}; consulte-o para informações atuais.",
        no_date="{source} não indica data de atualização; consulte-o para informações atuais.",
        sources_heading="Fontes:",
        edit_history="histórico de edições",
        discussion="discussão",
        updated_on="atualizado em {date}",
        item_on="«{title}» em {name}",
        video_on="o vídeo «{title}» em {name}",
        months=tuple(
            ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"]
        ),
        date_format="{day} de {month} de {year}",
        lower_openers=tuple(["o", "a", "os", "as", "um", "uma", "em", "este", "esta", "estes", "estas"]),
    ),
    "nl": Phrases(
        according_suffix=" (volgens {source})",
        as_of_suffix=" (volgens {source}, stand van {date})",
        code_credit="De code hierboven komt van {source}.",
        code_licence=" Licentie: {license}.",
        code_removed="De code staat op {source}.",
        read_full="Lees de volledige tekst bij {source}.",
        more_depth="Meer diepgang bij {source}.",
        contested="Dit onderwerp is omstreden; lees het volledige artikel met bronnen en discussie bij {source}.",
        last_updated="{source} is voor het laatst bijgewerkt op {date}; raadpleeg het voor actuele informatie.",
        no_date="{source} vermeldt geen datum van bijwerking; raadpleeg het voor actuele informatie.",
        sources_heading="Bronnen:",
        edit_history="bewerkingsgeschiedenis",
        discussion="overleg",
        updated_on="bijgewerkt op {date}",
        item_on="‘{title}’ op {name}",
        video_on="de video ‘{title}’ op {name}",
        months=tuple(
            ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"]
        ),
    ),
    "ru": Phrases(
        according_prefix="По данным {source}, ",
        according_suffix=" (по данным {source})",
        as_of_prefix="По данным {source} на {date}, ",
        as_of_suffix=" (по данным {source} на {date})",
        code_credit="Код выше взят из {source}.",
        code_licence=" Лицензия: {license}.",
        code_removed="Код доступен на {source}.",
        read_full="Полный текст: {source}.",
        more_depth="Подробнее: {source}.",
        contested="Эта тема спорная; полную статью, её источники и обсуждение см. на {source}.",
        last_updated="{source} обновлялся в последний раз {date}; актуальные сведения см. там.",
        no_date="{source} не указывает дату обновления; актуальные сведения см. там.",
        sources_heading="Источники:",
        edit_history="история правок",
        discussion="обсуждение",
        updated_on="обновлено {date}",
        item_on="«{title}» на {name}",
        video_on="видео «{title}» на {name}",
        months=tuple(
            ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"]
        ),
        date_format="{day} {month} {year} г.",
        lower_openers=tuple(["в", "во", "на", "по", "это", "эти", "этот", "эта"]),
    ),
}


def fill(template: str, *, source: str = "", **values: str) -> tuple[str, tuple[int, int] | None]:
    """The template with its values, and where ``{source}`` landed (for the citation span)."""
    if "{source}" not in template:
        return template.format(**values), None
    before, after = template.split("{source}", 1)
    head = before.format(**values)
    return head + source + after.format(**values), (len(head), len(head) + len(source))
