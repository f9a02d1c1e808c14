"""fairfetch attribution: shape AI answers under the publishers' norms.

Use ``instructions(sources)`` in the prompt before generation and
``shape(answer, sources)`` after it. ``shape`` drops sources whose publisher
denies ``ai-input``, attributes every claim to the sources that support it
(with exact character offsets), applies the query kind's rule (common
knowledge, primary source, contested, rapidly evolving, quick fact, long
form), keeps verbatim copying within per-class substitution limits, and
records every change it made in plain words.
"""

from attribution.analysis import measure_usage
from attribution.answer import Action, Citation, DroppedSource, ShapedAnswer, SourceUsage
from attribution.kinds import QueryKind
from attribution.links import SourceLinks
from attribution.policy import Limits, Policy, PolicyError
from attribution.prompting import instructions
from attribution.shaping import shape
from attribution.sources import Source, SourceError, SourceNotFound, SourceRevoked

__all__ = [
    "Action",
    "Citation",
    "DroppedSource",
    "Limits",
    "Policy",
    "PolicyError",
    "QueryKind",
    "ShapedAnswer",
    "Source",
    "SourceError",
    "SourceLinks",
    "SourceNotFound",
    "SourceRevoked",
    "SourceUsage",
    "instructions",
    "measure_usage",
    "shape",
]
