"""Every problem code the checker reports: its severity, what it means, and how to fix it.

The readers in ``norms`` emit ``Finding``s with these codes; the checker adds
its own (fetch outcomes, paywall selectors, contradictions across signals).
``fix`` may name ``{suggestion}`` (the likely intended text, when the reader
knows it). docs/publishers.md lists the same codes; a test keeps both equal.
"""

from __future__ import annotations

from typing import NamedTuple

from norms.problems import Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: note (info)


class Entry(NamedTuple):
    severity: Severity
    summary: str  # what the code means, for the docs table
    fix: str


CATALOGUE: dict[str, Entry] = {
    # -- robots.txt: fetching it ---------------------------------------------------------------
    "robots-unreachable": Entry(E, "robots.txt answered 5xx or 429, timed out or redirected more than 5 times",
        "Serve /robots.txt with status 200 (or 404 if you have none), quickly and without redirect loops: "
        "crawlers read a 5xx, 429, timeout or redirect loop as 'disallow everything'."),
    "robots-absent": Entry(N, "no robots.txt (4xx): every crawler may fetch everything",
        "Add a /robots.txt if you want to state rules; without one everything is allowed."),
    "robots-html": Entry(W, "/robots.txt is an HTML page: read as no robots.txt at all",
        "Serve a plain-text robots.txt at /robots.txt (or a 404): an HTML page there is read as 'no rules'."),
    "robots-content-type": Entry(W, "robots.txt is served with a Content-Type other than text/plain",
        "Serve robots.txt as 'Content-Type: text/plain; charset=utf-8'; some crawlers skip other types."),
    "robots-too-large": Entry(W, "robots.txt is over 500 KiB: rules past the limit are ignored",
        "Keep robots.txt under 500 KiB (RFC 9309 2.5): merge rules with wildcards, or drop per-URL lines."),
    "robots-fetch": Entry(W, "robots.txt was fetched but something about the answer is odd",
        "Serve robots.txt as plain text with status 200."),
    # -- robots.txt: the file --------------------------------------------------------------------
    "robots-not-utf8": Entry(W, "robots.txt is not UTF-8",
        "Save robots.txt as UTF-8: other encodings are guessed at (read here as Latin-1)."),
    "robots-mangled-bom": Entry(W, "robots.txt starts with a byte order mark mangled into 'ï»¿'",
        "Save robots.txt as UTF-8 without a BOM: the mangled BOM hides the first line from many parsers."),
    "robots-no-colon": Entry(W, "a line that is no 'Field: value' record; skipped",
        "Write the line as 'Field: value' (e.g. 'Disallow: /private/') or make it a comment with '#'."),
    "robots-missing-colon": Entry(W, "a known record without its colon, read leniently",
        "Add the colon: write '{suggestion}'. Strict parsers skip the line as it is."),
    "robots-misspelt-directive": Entry(W, "a misspelt record lenient parsers (ours, Google's) honour and strict ones ignore",
        "Spell the record '{suggestion}': crawlers that follow RFC 9309 to the letter ignore the misspelt line."),
    "robots-unknown-misspelling": Entry(E, "an unknown record that is most likely a typo of a known one; ignored by every crawler",
        "Did you mean '{suggestion}'? Every crawler ignores the line as written, so the rule it was meant "
        "to state does not apply."),
    "robots-unknown-directive": Entry(W, "a record no crawler we know reads; ignored",
        "Remove the line or make it a comment: no crawler acts on it."),
    "robots-rule-before-user-agent": Entry(E, "an Allow/Disallow before any User-agent line; ignored (RFC 9309 2.1)",
        "Put 'User-agent: *' (or the crawler's name) above the rule: rules outside a group apply to nobody."),
    "robots-rule-full-url": Entry(W, "a rule written as a full URL; only its path is used",
        "Write the path only: 'Disallow: {suggestion}'. Crawlers match rules against paths, not URLs."),
    "robots-path-no-slash": Entry(E, "a rule path that does not start with '/' or '*' can never match",
        "Start the path with '/': write '{suggestion}'. As written the rule matches no URL."),
    "robots-empty-user-agent": Entry(W, "a User-agent line without a value",
        "Name the crawler ('User-agent: GPTBot') or use '*' for every crawler."),
    "robots-empty-value": Entry(W, "a Sitemap or License line without a URL",
        "Give the absolute URL after the colon, or remove the line."),
    "robots-license-in-group": Entry(N, "a License line inside a User-agent group applies only to that group's crawlers",
        "If the licence is for every crawler, move the License line above the first User-agent line."),
    "robots-crawl-delay-outside-group": Entry(W, "a Crawl-delay outside any group; ignored",
        "Put Crawl-delay inside the User-agent group it is meant for."),
    "robots-crawl-delay-invalid": Entry(W, "a Crawl-delay that is not a number of seconds; ignored",
        "Write Crawl-delay as a number of seconds, e.g. 'Crawl-delay: 5'."),
    "robots-crawl-delay-too-long": Entry(W, "a Crawl-delay over 120 s, which no major crawler honours",
        "Use a delay of at most a few seconds: no major crawler waits this long (fairfetch does not crawl "
        "the site at all). To keep a crawler out, Disallow it instead."),
    "robots-request-rate-invalid": Entry(W, "a Request-rate outside a group or not 'n/period'; ignored",
        "Write Request-rate as 'requests/seconds' (e.g. '1/10s') inside a User-agent group."),
    "robots-more-warnings": Entry(N, "more problems than are listed",
        "Fix the problems listed first, then check again for the rest."),
    "robots-group-blocks-all": Entry(W, "a group with 'User-agent: *' beside named crawlers disallows everything for everyone",
        "This group blocks every crawler, search engines included, because it also names '*'. To block "
        "only {suggestion}, give them their own group without 'User-agent: *'."),
    "robots-unknown-purpose-token": Entry(W, "a group for a fairfetch-... token fairfetch never crawls under",
        "Name the purpose token you meant ('{suggestion}' is the closest), or the base token for all of them: "
        "fairfetch crawls only under its three purpose tokens (-search, -ai, -train), so this group applies "
        "to no crawl of it."),
    # -- Content-Signal / Content-Usage (robots.txt lines and response headers) --------------------
    "content-signal-syntax": Entry(W, "a Content-Signal item that is not key=value",
        "Write Content-Signal as comma-separated pairs: 'search=yes, ai-input=no, ai-train=no'."),
    "content-signal-unknown-key": Entry(N, "an unknown Content-Signal key, ignored",
        "Only search, ai-input and ai-train mean anything; the other keys are ignored by design."),
    "content-signal-value": Entry(W, "a Content-Signal value other than yes or no; ignored",
        "Use 'yes' or 'no' as the value: anything else leaves that use unspecified."),
    "content-signal-conflict": Entry(W, "a Content-Signal key given both yes and no",
        "Give each key once; as written the line is read as 'no'."),
    "content-signal-empty": Entry(W, "a Content-Signal line without any key=value pair",
        "Write at least one pair, e.g. 'Content-Signal: ai-train=no', or remove the line."),
    "content-signal-global": Entry(N, "a Content-Signal outside any group, used as a fallback",
        "This line applies to crawlers whose group has no Content-Signal; put it in a group to be explicit."),
    "content-usage-syntax": Entry(W, "a Content-Usage value that is not an RFC 9651 dictionary: every use unknown",
        "Write Content-Usage as an RFC 9651 dictionary of lowercase labels set to tokens, e.g. "
        "'train-ai=n, search=y' (no spaces around '=', no quotes)."),
    "content-usage-value": Entry(W, "a Content-Usage label whose value is not the token y or n",
        "Set each label to the token y or n (not \"n\", no, or 0)."),
    "content-usage-unknown-label": Entry(N, "an unknown Content-Usage label, ignored (AIPREF vocab-08)",
        "Known labels are search, train-ai, train-genai, ai-use (vocab-08); others are ignored by design."),
    "content-usage-unknown-parameter": Entry(N, "an unknown Content-Usage parameter, ignored (AIPREF vocab-08)",
        "Parameters other than exceptions are ignored by design; remove them if they were meant to restrict."),
    "content-usage-outside-group": Entry(W, "a Content-Usage line outside any group; ignored",
        "Put Content-Usage inside the User-agent group it applies to (e.g. under 'User-agent: *')."),
    "content-usage-empty": Entry(W, "a Content-Usage line without a preference",
        "Write a preference after the optional path, e.g. 'Content-Usage: /blog/ train-ai=n'."),
    # -- RSL ---------------------------------------------------------------------------------------
    "rsl-unreadable": Entry(E, "a declared licence could not be fetched or parsed: content unlicensed",
        "Make the licence URL answer 200 with a well-formed RSL 1.0 document: until then crawlers treat "
        "your content as unlicensed."),
    "rsl-wrong-root": Entry(E, "the licence's root element is not <rsl>",
        "Make <rsl xmlns=\"https://rslstandard.org/rsl\"> the root element of the licence document."),
    "rsl-wrong-namespace": Entry(E, "the <rsl> element is not in the RSL namespace",
        "Declare the namespace on the root: <rsl xmlns=\"https://rslstandard.org/rsl\">."),
    "rsl-disallowed": Entry(E, "robots.txt disallows the licence document itself",
        "Allow the licence URL in robots.txt (e.g. 'Allow: /license.xml'): a crawler may not fetch what "
        "robots.txt disallows, so it cannot read your licence."),
    "rsl-insecure": Entry(E, "the licence is declared or served over plain http",
        "Serve the licence over HTTPS and declare it with an https:// URL: an RSL crawler may treat a "
        "licence fetched over http as missing, so your content counts as unlicensed."),
    "rsl-relative-url": Entry(W, "a relative License URL in robots.txt, resolved against robots.txt",
        "Write the absolute URL: 'License: {suggestion}'. RSL requires absolute URLs; we resolved it "
        "against robots.txt, other crawlers may not."),
    "rsl-nonconformant": Entry(E, "the licence is not RSL 1.0 conformant: treated as unlicensed",
        "Fix the element named so the document conforms to RSL 1.0."),
    "rsl-lenient": Entry(W, "part of the licence was read leniently",
        "Update the licence to RSL 1.0 syntax."),
    "rsl-unknown-attribute": Entry(E, "an attribute RSL 1.0 does not define: the licence is non-conformant",
        "Remove the attribute from the element named (or put it in your own XML namespace)."),
    "rsl-unknown-element": Entry(E, "an element in the RSL namespace that RSL 1.0 does not define",
        "Remove the element, or move it into your own XML namespace as an extension."),
    "rsl-misplaced-element": Entry(E, "an RSL element where RSL 1.0 does not allow it",
        "Move the element inside the parent RSL 1.0 requires (e.g. <permits> inside <license>)."),
    "rsl-extension-ignored": Entry(N, "an extension element in another namespace, ignored",
        "Nothing to fix if it is yours; crawlers ignore extension elements they do not know."),
    "rsl-comma-list": Entry(W, "a comma-separated list (RSL 0.9 style)",
        "Separate list values with spaces, as RSL 1.0 requires: 'ai-input search'."),
    "rsl-bad-max-age": Entry(E, "max-age is not a positive number of days",
        "Give max-age as a positive whole number of days, e.g. max-age=\"7\"."),
    "rsl-no-content": Entry(E, "the licence has no <content> element: it licenses nothing",
        "Add <content url=\"/\"> (or the paths it covers) with a <license> inside."),
    "rsl-content-without-url": Entry(E, "a <content> element without url; ignored",
        "Give every <content> a url attribute naming what it covers, e.g. url=\"/articles/*\"."),
    "rsl-bad-server": Entry(E, "a <content server> that is not an absolute URL",
        "Give the licence server as an absolute https:// URL."),
    "rsl-encrypted-without-server": Entry(E, "encrypted content without a licence server",
        "Name the licence server that issues keys (server=\"https://...\") or drop encrypted=\"true\"."),
    "rsl-content-without-license": Entry(E, "a <content> without any <license>: nothing is permitted",
        "Add a <license> with <permits> (and <payment> if you charge) inside the <content>."),
    "rsl-bad-boolean": Entry(E, "a boolean attribute that is neither true nor false",
        "Write the attribute as \"true\" or \"false\"."),
    "rsl-rule-without-type": Entry(W, "<permits>/<prohibits> without type, read as usage",
        "Add type=\"usage\" (or user / geo) to say what the list restricts."),
    "rsl-bad-rule-type": Entry(E, "<permits>/<prohibits> with a type RSL does not define; the rule is unreadable",
        "Use type=\"usage\", \"user\" or \"geo\"."),
    "rsl-rules-merged": Entry(W, "several lists of the same type, merged",
        "Write one <permits> (and one <prohibits>) per type, listing every value in it."),
    "rsl-duplicate-payment": Entry(E, "more than one <payment> in a <license>",
        "Keep one <payment> per <license>; put other offers in their own <license>."),
    "rsl-legal-without-type": Entry(E, "a <legal> element without type",
        "Give <legal> a type (e.g. type=\"warranty\")."),
    "rsl-unknown-token": Entry(W, "a value RSL does not define in a permits/prohibits list; it grants nothing",
        "Use RSL 1.0 tokens (usage: all ai-all ai-train ai-input ai-index search; user: commercial "
        "non-commercial education government personal; geo: ISO 3166 codes)."),
    "rsl-payment-without-type": Entry(E, "a <payment> without type",
        "Give <payment> a type: free, purchase, subscription, training, crawl, use, attribution or contribution."),
    "rsl-unknown-payment-type": Entry(E, "a payment type RSL 1.0 does not define",
        "Use an RSL 1.0 payment type: free, purchase, subscription, training, crawl, use, attribution, contribution."),
    "rsl-legacy-payment-type": Entry(W, "an RSL 0.9 payment type, read as its 1.0 equivalent",
        "Use the RSL 1.0 payment type named in the message."),
    "rsl-bad-amount": Entry(E, "an <amount> that is not a non-negative decimal number",
        "Write the amount as a decimal number such as 0.01."),
    "rsl-bad-currency": Entry(E, "an <amount> without an ISO 4217 currency",
        "Add currency=\"USD\" (or another ISO 4217 code) to <amount>."),
    "rsl-embedded-content-count": Entry(E, "an embedded licence with other than one <content>",
        "An inline or feed licence must hold exactly one <content> describing that page."),
    # -- TDMRep --------------------------------------------------------------------------------------
    "tdmrep-invalid-json": Entry(E, "tdmrep.json is not valid JSON: the file is ignored",
        "Fix the JSON syntax at the line named (a trailing comma or an unquoted key, most often)."),
    "tdmrep-invalid": Entry(E, "tdmrep.json is not an array of rules",
        "Make the file a JSON array of {\"location\": \"/...\", \"tdm-reservation\": 0 or 1} objects."),
    "tdmrep-too-large": Entry(W, "tdmrep.json is over 1 MB; ignored",
        "Keep tdmrep.json under 1 MB: use location patterns with '*' instead of one rule per page."),
    "tdmrep-not-array": Entry(W, "tdmrep.json is a single object, read as one rule",
        "Wrap the rule in an array: [{...}]."),
    "tdmrep-rule-not-object": Entry(W, "an array entry that is not an object; ignored",
        "Every entry must be an object with location and tdm-reservation."),
    "tdmrep-reservation-string": Entry(W, "tdm-reservation is the string \"1\", not the number 1",
        "Write the number without quotes: \"tdm-reservation\": 1."),
    "tdmrep-reservation-type": Entry(W, "tdm-reservation is true or 1.0, not the number 1",
        "Write \"tdm-reservation\": 1 (the number)."),
    "tdmrep-reservation-value": Entry(E, "tdm-reservation is neither 0 nor 1: the rule reserves nothing",
        "Use 1 to reserve text-and-data-mining rights, 0 to waive the reservation."),
    "tdmrep-no-reservation": Entry(E, "a rule without tdm-reservation; ignored",
        "Add \"tdm-reservation\": 1 (reserved) or 0 to the rule."),
    "tdmrep-no-location": Entry(W, "a rule without location",
        "Add \"location\": \"/path/*\" naming what the rule covers (\"/*\" for the whole site)."),
    "tdmrep-location-url": Entry(W, "a location written as a full URL; its path is used",
        "Write the location as a path starting with '/'."),
    "tdmrep-location-no-slash": Entry(W, "a location that does not start with '/'",
        "Start the location with '/'."),
    "tdmrep-key-spelling": Entry(W, "a key spelt with '_' instead of '-'",
        "Spell the keys tdm-reservation and tdm-policy with hyphens."),
    "tdmrep-policy-invalid": Entry(W, "a tdm-policy that is not a URL; ignored",
        "Give tdm-policy as an absolute https:// URL of your TDM policy document."),
    "tdmrep-policy-unreachable": Entry(E, "the tdm-policy URL cannot be fetched",
        "Publish the policy at that URL (status 200), or correct the URL: miners who want a licence "
        "cannot find your terms."),
    "tdmrep-shadowed": Entry(W, "a more specific rule never applies because an earlier one matches first",
        "tdmrep.json applies the first matching rule: put longer, more specific locations first."),
    "tdm-header-invalid": Entry(W, "a tdm-reservation header or meta that is neither 0 nor 1",
        "Set tdm-reservation to 1 (reserved) or 0."),
    # -- the page --------------------------------------------------------------------------------------
    "page-unreachable": Entry(E, "the page could not be fetched or answered 4xx/5xx",
        "Make the page answer 200 to crawlers you allow: page-level signals could not be checked."),
    "meta-outside-head": Entry(W, "a robots, crawler-named, tdm-* meta or RSL link outside <head>",
        "Move the tag into <head>: fairfetch honours it anywhere, many crawlers read only <head>."),
    "robots-tag-value": Entry(W, "an unreadable max-snippet or unavailable_after value",
        "Use max-snippet:<number> and unavailable_after:<RFC 822 or ISO 8601 date>."),
    "robots-tag-syntax": Entry(W, "a Robots-Tag header that is not a structured-field list of product tokens",
        "Write Robots-Tag as a structured-field list, e.g. 'Robots-Tag: examplebot;noai, *;nosnippet'."),
    "page-meta-truncated": Entry(N, "a page too large to parse whole: meta tags past the cut were read from the raw text",
        "Put robots and tdm-* meta tags early in <head>, and keep pages under a few MiB."),
    "paywall-jsonld-invalid": Entry(W, "a JSON-LD block with paywall markup that is not valid JSON; ignored",
        "Fix the JSON in the script named (a trailing comma, most often): its isAccessibleForFree is ignored."),
    "paywall-free-value": Entry(W, "isAccessibleForFree is neither true nor false; ignored",
        "Write isAccessibleForFree as the boolean false (or true), not a string like 'no'."),
    "paywall-no-parts": Entry(N, "isAccessibleForFree:false without hasPart: the whole page is paywalled",
        "If part of the page is free, name the walled sections with hasPart and cssSelector; otherwise "
        "nothing to do: the whole page is treated as paywalled."),
    "paywall-selector-invalid": Entry(E, "a hasPart cssSelector that is not valid CSS: the whole page counts as paywalled",
        "Fix the selector (e.g. '.paywall', '#premium-body'); until then crawlers treat the whole page as "
        "paywalled."),
    "paywall-selector-unmatched": Entry(E, "a hasPart cssSelector that matches nothing on the page: the whole page counts as paywalled",
        "Use a selector that matches the walled element on this page (check its class or id); until then "
        "crawlers treat the whole page as paywalled."),
    "paywall-part-without-selector": Entry(E, "a walled hasPart without a usable cssSelector: the whole page counts as paywalled",
        "Give every walled hasPart a cssSelector naming the walled element: until then crawlers treat the "
        "whole page as paywalled."),
    "paywall-parts-cover-article": Entry(W, "the walled parts cover the whole article",
        "If the whole article is walled, say so without hasPart; if not, narrow the selectors to the walled "
        "part so the free part can be quoted."),
    "paywall-unmarked": Entry(W, "a paywall script without schema.org isAccessibleForFree markup",
        "Add isAccessibleForFree:false (with hasPart/cssSelector for the walled parts) so crawlers know "
        "exactly what is free."),
    # -- contradictions across signals -----------------------------------------------------------------
    "contradiction-robots-licence": Entry(W, "robots.txt lets a crawler in by name while your licence prohibits what it does",
        "Decide which you mean: disallow {suggestion} in robots.txt, or permit that use in the licence. "
        "The licence's prohibition wins."),
    "contradiction-signal-licence": Entry(W, "Content-Signal ai-train=no while a licence permits ai-train",
        "Make them agree: drop ai-train=no if the licence is your offer, or remove ai-train from <permits>. "
        "The restriction wins."),
    "contradiction-noai-licence": Entry(W, "a noai tag on a page whose licence permits ai-input",
        "Make them agree: remove noai if the licence is your offer, or remove ai-input from <permits>. "
        "The restriction wins."),
    "contradiction-tdmrep-licence": Entry(W, "a TDMRep reservation on content an RSL licence permits for AI",
        "Make them agree: set tdm-reservation to 0 for content you license, or point tdm-policy at the "
        "licence. The reservation wins."),
}


def entry(code: str) -> Entry:
    """The entry for ``code``; a code nobody catalogued is a warning with a generic fix."""
    return CATALOGUE.get(code) or Entry(W, code, "See docs/publishers.md for this problem.")


CATALOGUE.update({
    "rsl-not-supplied": Entry(W, "offline: a licence robots.txt or the page declares was not given with --rsl",
        "Pass the licence file with --rsl (its file name should match the URL's last segment); until "
        "then the report treats the content it covers as unlicensed."),
    "rsl-not-declared": Entry(W, "offline: a licence file given with --rsl that neither robots.txt nor the page declares",
        "Declare the licence so crawlers find it: 'License: https://your.site/{suggestion}' in robots.txt, "
        "or <link rel=\"license\" type=\"application/rsl+xml\" href=\"...\"> in the page."),
})
