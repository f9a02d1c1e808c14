"""The numbers and switches behind every shaping rule, loadable from TOML.

Defaults follow the research notes (docs attribution.md 4.2-4.3): no law gives
a general word count for quotation, so these are calibration points that each
team may override per source class.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attribution.templates import BUILT_IN, Phrases
from norms.model import SignalError

SourceClass = Literal["canonical", "aggregator", "community", "unknown"]

# Limit profiles. "community-closed" is a community platform whose content
# carries no open licence (Reddit, Hacker News, Quora, a default Discourse):
# the licence does not allow more than brief quotation.
LimitProfile = Literal["canonical", "aggregator", "community", "community-closed", "unknown"]


class PolicyError(SignalError):
    """A policy file could not be read. The message says why, in plain words."""


def _is_file(name: str) -> bool:
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # over-long or NUL-containing names are TOML text, not paths
        return False


class Limits(BaseModel):
    """Substitution limits for one class of source (``None`` = no limit).

    A *quote* is a verbatim run of at least ``min_run_words`` normalised words
    shared by the answer and the source; shorter shared phrases are ordinary
    language, not copying. ``max_share`` bounds ``reproduced_share``: the
    fraction of the source's words the answer reproduces verbatim.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_quote_words: int | None = Field(default=None, ge=1)
    max_quote_chars: int | None = Field(default=None, ge=1)
    max_quotes: int | None = Field(default=None, ge=0)
    max_words_per_answer: int | None = Field(default=None, ge=0)
    max_share: float | None = Field(default=None, ge=0, le=1)
    min_run_words: int = Field(default=8, ge=2)


def _default_limits() -> dict[str, Limits]:
    return {
        # Official sites: facts are free, prose quotes at most 160 characters
        # (UrhDaG §10 minor-use figure), 3 quotes, 10% of the page.
        "canonical": Limits(max_quote_chars=160, max_quotes=3, max_share=0.10),
        # Reviews, videos, repositories, listings: 25 words / 160 characters
        # per quote, one quote per item (a source is one item), 5% of it.
        "aggregator": Limits(max_quote_words=25, max_quote_chars=160, max_quotes=1, max_share=0.05),
        # Copyleft community text (Wikipedia, Stack Exchange, OSM): the licence
        # allows more; STM-like 400 words per extract, 800 per answer, 25%.
        "community": Limits(max_quote_words=400, max_words_per_answer=800, max_share=0.25),
        # Community text without an open licence: brief quotation only.
        "community-closed": Limits(max_quote_chars=160, max_quotes=3, max_share=0.05),
        # Unknown sources are treated like aggregators (strictest).
        "unknown": Limits(max_quote_words=25, max_quote_chars=160, max_quotes=1, max_share=0.05),
    }


class Policy(BaseModel):
    """Every rule ``shape`` and ``instructions`` apply, with its default.

    - ``support_threshold``: share of a sentence's informative word pairs that
      must occur in a source for the source to support the sentence.
    - ``common_knowledge_min_domains``: distinct registrable domains that must
      agree before a fact is stated without a link.
    - ``denied_sentences``: what happens to a sentence that only relies on
      sources whose ``ai-input`` is denied: ``remove`` it or ``flag`` it.
    - ``contested_max_sentences_per_side``: key points kept per source on a
      contested topic.
    - ``evolving_days``: a source changed this recently (before it was
      retrieved) makes the topic rapidly evolving.
    - ``long_form_min_words`` / ``long_form_max_sentences``: a source this long
      is long-form work; an answer keeps only the basic information from it.
    - ``max_supporters``: supporting sources considered per sentence (the
      best by support score); bounds the work per sentence.
    - ``share_floor_words``: the share-of-source limit applies only above this
      many words reproduced from one source: a short fact taken from a short
      page does not substitute for it.
    - ``link_common_knowledge``: also cite (markers only, no in-text
      attribution) sentences stated as common knowledge.
    - ``phrases``: per language (ISO 639-1), phrases that replace the built-in
      ones (``attribution.templates``); a new language must give every phrase.
    - ``dispute_markers``, ``*_query_words``: phrases (in the eight built-in
      languages) by which a source marks a dispute or a query asks for
      something volatile, a quick fact or depth.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    limits: dict[str, Limits] = Field(default_factory=_default_limits)
    support_threshold: float = Field(default=0.5, gt=0, le=1)
    common_knowledge_min_domains: int = Field(default=3, ge=1)
    denied_sentences: Literal["remove", "flag"] = "remove"
    contested_max_sentences_per_side: int = Field(default=2, ge=1)
    evolving_days: int = Field(default=7, ge=0)
    long_form_min_words: int = Field(default=1500, ge=1)
    long_form_max_sentences: int = Field(default=3, ge=1)
    max_supporters: int = Field(default=8, ge=1)
    share_floor_words: int = Field(default=40, ge=0)
    link_common_knowledge: bool = False
    phrases: dict[str, dict[str, str | list[str]]] = Field(default_factory=dict)
    open_licences: tuple[str, ...] = (
        "cc-by",
        "cc by",
        "cc0",
        "cc-zero",
        "public domain",
        "public-domain",
        "odbl",
        "gfdl",
        "mit",
        "apache",
        "bsd",
        "gpl",
        "mpl",
    )
    dispute_markers: tuple[str, ...] = (
        "disputed",
        "is contested",
        "are contested",
        "controversial",
        "controversy",
        "historians disagree",
        "scholars disagree",
        "is debated",
        "are debated",
        "remains debated",
        "remains uncertain",
        "neutrality of this article",
        "factual accuracy",
        "no consensus",
        # de, fr, es, it, pt, nl, ru
        "umstritten", "strittig", "historiker sind sich uneinig", "keine einigkeit",
        "controversé", "contesté", "les historiens sont divisés", "fait débat",
        "controvertido", "en disputa", "los historiadores discrepan",
        "controverso", "dibattuto", "gli storici non concordano",
        "controverso", "contestado", "os historiadores discordam",
        "omstreden", "betwist", "historici zijn het oneens",
        "спорн", "оспарива", "историки расходятся", "нет единого мнения",
    )
    volatile_query_words: tuple[str, ...] = (
        "latest",
        "current",
        "currently",
        "today",
        "now",
        "recent",
        "recently",
        "ongoing",
        "breaking",
        "this week",
        "this year",
        "live",
        "news",
        "aktuell", "aktuelle", "aktuellen", "heute", "jetzt", "neueste", "neuesten",
        "actuel", "actuelle", "aujourd hui", "maintenant", "dernières", "récent",
        "actual", "hoy", "ahora", "últimas", "reciente",
        "attuale", "oggi", "adesso", "ultime", "recente",
        "atual", "hoje", "agora", "últimas",
        "actueel", "huidige", "vandaag", "nu", "laatste",
        "сейчас", "сегодня", "последние", "текущий", "текущая", "актуальные", "новости",
    )
    quick_fact_query_words: tuple[str, ...] = (
        "hours",
        "opening",
        "open",
        "close",
        "closing",
        "fee",
        "fees",
        "price",
        "cost",
        "how much",
        "phone",
        "address",
        "specs",
        "specifications",
        "dimensions",
        "weight",
        "capacity",
        "version",
        "öffnungszeiten", "preis", "preise", "kosten", "kostet", "gebühr", "gebühren", "adresse",
        "horaires", "prix", "coût", "tarif", "tarifs", "adresse",
        "horario", "horarios", "precio", "cuesta", "tarifa", "dirección",
        "orari", "orario", "prezzo", "costo", "costa", "tariffa", "indirizzo",
        "horário", "horários", "preço", "custa", "tarifa", "endereço",
        "openingstijden", "prijs", "kosten", "kost", "tarief", "adres",
        "цена", "стоимость", "стоит", "сколько", "часы", "адрес", "тариф",
    )
    long_form_query_words: tuple[str, ...] = (
        "explain",
        "summarise",
        "summarize",
        "summary",
        "overview",
        "in depth",
        "in detail",
        "guide",
        "tutorial",
        "history of",
        "erkläre", "erklären", "überblick", "zusammenfassung", "anleitung", "geschichte",
        "expliquer", "explique", "résumé", "aperçu", "guide", "histoire",
        "explica", "explicar", "resumen", "guía", "historia",
        "spiega", "spiegare", "riassunto", "panoramica", "guida", "storia",
        "explique", "explicar", "resumo", "visão geral", "guia", "história",
        "leg uit", "uitleg", "overzicht", "samenvatting", "handleiding", "geschiedenis",
        "объясни", "объяснить", "обзор", "краткое", "руководство", "история",
    )

    def all_phrases(self) -> dict[str, Phrases]:
        """Built-in phrases with the policy's overrides applied (validated on first use)."""
        merged = dict(BUILT_IN)
        for lang, values in self.phrases.items():
            base = BUILT_IN[lang].model_dump() if lang in BUILT_IN else {}
            base.update(values)
            merged[lang] = Phrases.model_validate(base)
        return merged

    def limits_for(self, profile: str) -> Limits:
        """Limits of a profile; unknown profile names fall back to ``unknown``."""
        return self.limits.get(profile) or self.limits.get("unknown") or Limits()

    def is_open_licence(self, licence: str | None) -> bool:
        if not licence:
            return False
        low = licence.lower()
        return any(token in low for token in self.open_licences)

    @classmethod
    def from_toml(cls, path_or_text: str | bytes | Path) -> Policy:
        """Read a policy from a TOML file or TOML text; unset keys keep their defaults.

        A ``Path`` or a one-line string naming an existing file is read as a
        file; anything else is parsed as TOML text. ``[limits.<class>]`` tables
        replace only the keys they set.
        """
        if isinstance(path_or_text, bytes):
            try:
                path_or_text = path_or_text.decode("utf-8")
            except UnicodeDecodeError:
                raise PolicyError("policy is not UTF-8 text") from None
        if isinstance(path_or_text, Path) or (
            "\n" not in path_or_text and "=" not in path_or_text and _is_file(path_or_text)
        ):
            path = Path(path_or_text)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise PolicyError(
                    f"cannot read policy file {path}: {exc.strerror or exc}"
                ) from None
            except UnicodeDecodeError:
                raise PolicyError(f"policy file {path} is not UTF-8 text") from None
        else:
            text = path_or_text
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy is not valid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Policy:
        """Build a policy from plain data; ``limits`` entries are merged over the defaults."""
        data = dict(data)
        limits = _default_limits()
        raw_limits = data.pop("limits", {})
        if not isinstance(raw_limits, dict):
            raise PolicyError("'limits' must be a table of source classes")
        try:
            for name, values in raw_limits.items():
                if name not in limits:
                    known = ", ".join(limits)
                    raise PolicyError(
                        f"limits.{name}: unknown source class; expected one of: {known}"
                    )
                if not isinstance(values, dict):
                    raise PolicyError(f"limits.{name} must be a table")
                base = limits[name].model_dump()
                base.update(values)
                limits[name] = Limits.model_validate(base)
            policy = cls.model_validate({**data, "limits": limits})
            policy.all_phrases()
            return policy
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise PolicyError(f"invalid policy: {problems}") from None
