"""The one vocabulary: everyday object names, plurals and typos mapped onto memory categories.

A leaf module (imports nothing from the package): the checker's hints (E240), the interpreter's
run-time category errors and the planners' name resolution all read these tables, so a synonym added
here is understood everywhere at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

# common names -> memory category names (the first one present in the memory is suggested first);
# the single synonym table: the checker's hints and the planners' name resolution both read it
SYNONYMS: dict[str, tuple[str, ...]] = {
    "couch": ("sofa",), "settee": ("sofa",), "loveseat": ("sofa",), "television": ("tv",), "tv set": ("tv",),
    "television set": ("tv",), "tv screen": ("tv",), "monitor": ("tv",), "screen": ("tv", "monitor"),
    "display": ("monitor", "tv"),
    "computer": ("laptop", "monitor"), "notebook": ("laptop",), "pc": ("laptop", "monitor"),
    "bin": ("trash bin",), "trash can": ("trash bin",), "garbage can": ("trash bin",), "garbage bin": ("trash bin",),
    "wastebasket": ("trash bin",), "waste bin": ("trash bin",), "trashcan": ("trash bin",),
    "rubbish bin": ("trash bin",), "dustbin": ("trash bin",), "trash": ("trash bin",),
    "fridge": ("refrigerator",), "freezer": ("refrigerator",), "light": ("lamp", "ceiling light"),
    "desk lamp": ("lamp",), "floor lamp": ("lamp",), "ceiling lamp": ("ceiling light",),
    "armchair": ("chair",), "stool": ("chair",), "office chair": ("chair",),
    "dining table": ("table",), "coffee table": ("table",), "desk": ("table",), "writing desk": ("desk",),
    "night stand": ("nightstand",), "bedside table": ("nightstand",), "night table": ("nightstand",),
    "cupboard": ("cabinet",), "closet": ("wardrobe", "cabinet"), "wardrobe": ("cabinet",),
    "bookcase": ("bookshelf",), "book shelf": ("bookshelf",), "shelf": ("bookshelf",), "shelves": ("bookshelf",),
    "potted plant": ("plant",), "houseplant": ("plant",), "flower pot": ("plant",), "plant": ("potted plant",),
    "rug": ("carpet",), "washbasin": ("sink",), "basin": ("sink",), "doorway": ("door",),
    "radiator": ("heater",), "oven": ("stove", "microwave"), "cooker": ("stove",), "microwave oven": ("microwave",),
    "cushion": ("pillow",), "chest of drawers": ("dresser",), "drawers": ("dresser",), "bag": ("backpack",),
    "rucksack": ("backpack",), "board": ("whiteboard",), "white board": ("whiteboard",), "carton": ("box",),
    "bed frame": ("bed",), "bedframe": ("bed",), "desk table": ("table",), "window pane": ("window",),
    "coat rack": ("coat hanger",), "coat stand": ("coat hanger", "coat rack"), "bedside cabinet": ("nightstand",),
}
# SYNONYMS is read both ways by resolve(): a memory category "fridge" answers a question about the "refrigerator"
# misremembered operation names -> the operation meant (the checker's E200 hint)
OP_ALIASES: dict[str, str] = {
    "len": "count", "size": "count", "number": "count", "dist": "distance", "closest": "nearest",
    "area": "room_area", "print": "answer", "return_answer": "answer", "get": "the", "find": "objects",
    "select": "where", "filter": "where", "sorted": "sort_by", "sort": "sort_by", "select_option": "choose",
    "option": "choose", "view": "stand_at", "look_at": "stand_at", "cm": "to_cm", "meters": "to_m",
    "furthest": "farthest", "turns": "route", "path": "route", "image": "render", "map": "topdown",
    "birdseye": "topdown", "show": "look", "when": "first_seen", "order": "appearance_order",
    "object_count": "count", "get_objects": "objects", "find_objects": "objects", "relative_direction": "direction",
}


def suggest_category(name: str, categories) -> list[str]:
    """Closest memory categories for a name: synonyms, singular form, then spelling neighbours."""
    key = " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())
    cats = list(categories)
    out: list[str] = []
    singular = [key[:-1]] if key.endswith("s") else []
    if key.endswith("es"):
        singular.append(key[:-2])
    cands = list(SYNONYMS.get(key, ())) + singular + [c for k in singular for c in SYNONYMS.get(k, ())]
    for cand in cands:
        if cand in cats and cand not in out:
            out.append(cand)
    for c in cats:
        if c not in out and (key in c.split() or c in key.split()):
            out.append(c)
    for c in difflib.get_close_matches(key, cats, n=3, cutoff=0.6):
        if c not in out:
            out.append(c)
    return out[:3]


def closest_choice(value: str, choices: Sequence[str]) -> str | None:
    """The allowed value closest to ``value``: most shared words first, spelling only to break ties.

    ``back_left`` -> ``left_right_back`` (two shared words), not ``left_right`` (closer in spelling but
    unable to say "back"). Falls back to spelling alone when no word is shared; None when nothing is close.
    """
    def words(s: str) -> set[str]:
        return {w for w in re.split(r"[\s_\-]+", s.lower()) if w}

    want = words(value)
    scored = [(len(want & words(c)), difflib.SequenceMatcher(None, value.lower(), c.lower()).ratio(), c)
              for c in choices]
    best = max(scored, default=None)
    if best is not None and best[0] > 0:
        return best[2]
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.4)
    return close[0] if close else None


def _synonyms_by_category() -> dict[str, tuple[str, ...]]:
    """Memory category -> the common names that mean it, inverted from SYNONYMS."""
    out: dict[str, list[str]] = {}
    for alias, targets in SYNONYMS.items():
        for target in targets:
            out.setdefault(target, []).append(alias)
    return {k: tuple(v) for k, v in out.items()}


SYNONYMS_BY_CATEGORY: dict[str, tuple[str, ...]] = _synonyms_by_category()


def clean_category(raw: str) -> str:
    """A name as written in a question, normalised: no quotes, "(s)" or article, lower case, single spaces."""
    c = raw.strip().strip("'\"`").strip()
    c = re.sub(r"\(\s*(?:s|es)\s*\)", "", c, flags=re.I)
    c = re.sub(r"^(?:the|a|an)\s+", "", c, flags=re.I)
    c = c.rstrip("?.!,;: ").strip()
    return re.sub(r"[\s_]+", " ", c).lower()


def singulars(word: str) -> list[str]:
    """Candidate singular forms of an English plural (shelves -> shelf/shelfe, boxes -> box, chairs -> chair)."""
    out = []
    if word.endswith("ves") and len(word) > 4:
        out += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        out.append(word[:-1])
    return out


# how a name was resolved, from the most to the least certain (Resolution.how)
RESOLUTION_KINDS: tuple[str, ...] = ("exact", "spelling variant", "plural", "synonym", "head noun", "typo",
                                     "ambiguous", "none")


@dataclass(frozen=True)
class Resolution:
    """What :func:`resolve` did with a name as written in a question.

    Attributes:
        raw: the name as written.
        name: the memory category it resolves to; the cleaned name when ``how`` is "ambiguous" or "none".
        how: one of :data:`RESOLUTION_KINDS`.
        candidates: the tied categories ("ambiguous") or the closest ones ("none"); else empty.
        edit_distance: letters changed for a "typo" (0 otherwise).
    """

    raw: str
    name: str
    how: str
    candidates: tuple[str, ...] = ()
    edit_distance: int = 0

    @property
    def resolved(self) -> bool:
        """Whether the name was mapped onto exactly one memory category."""
        return self.how not in ("ambiguous", "none")

    def note(self) -> str:
        """One line for a trace: ``'"dinning table" -> "dining table" (typo, edit distance 1)'``."""
        src = clean_category(self.raw)
        if self.how == "exact":
            return f'"{src}" is a memory category'
        if self.how == "ambiguous":
            return f'"{src}" is ambiguous: ' + ", ".join(f'"{c}"' for c in self.candidates)
        if self.how == "none":
            return f'"{src}" matches no memory category'
        extra = f", edit distance {self.edit_distance}" if self.how == "typo" else ""
        return f'"{src}" -> "{self.name}" ({self.how}{extra})'


def _compact(name: str) -> str:
    return re.sub(r"[\s\-_]+", "", name)


def edit_distance(a: str, b: str) -> int:
    """Edit distance counting insertions, deletions, substitutions and swaps of neighbours ("chiar" = 1)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _extends(short: str, long: str) -> bool:
    """``long`` is ``short`` plus new trailing letters (table -> tablet), not a doubled last letter (sofa -> sofaa)."""
    if len(long) <= len(short) or not long.startswith(short):
        return False
    return set(long[len(short):]) != {short[-1:]}


def typo_threshold(name: str) -> int:
    """The largest edit distance accepted as a typo: 0 up to 3 letters, 1 up to 7, then 2."""
    n = len(_compact(name))
    return 0 if n <= 3 else 1 if n <= 7 else 2


def known_names() -> frozenset[str]:
    """Every object name the vocabulary knows (synonym keys and targets): these are words, not typos."""
    return frozenset(SYNONYMS) | frozenset(t for ts in SYNONYMS.values() for t in ts)


def _one(raw: str, name: str, how: str, found: list[str]) -> Resolution | None:
    """A resolution from the categories found at one step: one -> resolved, several -> ambiguous."""
    found = list(dict.fromkeys(found))
    if len(found) == 1:
        return Resolution(raw, found[0], how)
    if len(found) > 1:
        return Resolution(raw, name, "ambiguous", tuple(found))
    return None


def resolve(raw: str, categories: Sequence[str]) -> Resolution:
    """Map a name as written in a question onto one of the memory's categories, saying how.

    Steps, first hit wins: exact (case, "(s)", articles ignored); spelling variant (spaces / hyphens:
    "night stand" = "nightstand"); plural (singular forms of the last word); synonym (:data:`SYNONYMS`,
    both ways; the first listed target present wins, several equally-ranked reverse matches are
    ambiguous); typo (edit distance <= :func:`typo_threshold`; never for a name the vocabulary knows as
    a word of its own, and never when one is the other plus trailing letters: "table" does not become
    "tablet", though "sofaa" is "sofa"); head noun (the longest trailing words that resolve: "wooden chair" -> "chair").
    Otherwise "none", with the closest categories as candidates.
    """
    name = clean_category(raw)
    cats = {c.lower(): c for c in categories}
    if name in cats:
        return Resolution(raw, cats[name], "exact")
    if not cats or not name:
        return Resolution(raw, name, "none")
    key = _compact(name)
    hit = _one(raw, name, "spelling variant", [c for low, c in cats.items() if _compact(low) == key])
    if hit:
        return hit
    words = name.split(" ")
    plurals = [" ".join(words[:-1] + [s]) for s in singulars(words[-1])]
    hit = _one(raw, name, "plural", [cats[p] for p in plurals if p in cats][:1])
    if hit:
        return hit
    for cand in [name, *plurals]:
        forward = [cats[t] for t in SYNONYMS.get(cand, ()) if t in cats]
        if forward:
            return Resolution(raw, forward[0], "synonym")
    for cand in [name, *plurals]:
        hit = _one(raw, name, "synonym", [cats[a] for a in SYNONYMS_BY_CATEGORY.get(cand, ()) if a in cats])
        if hit:
            return hit
    if name not in known_names():
        limit = typo_threshold(name)
        scored = []
        for low, c in cats.items():
            if _extends(name, low) or _extends(low, name):  # table / tablet: different words
                continue
            d = edit_distance(name, low)
            if d <= min(limit, typo_threshold(low)):
                scored.append((d, c))
        if scored:
            best = min(d for d, _ in scored)
            tied = [c for d, c in scored if d == best]
            if len(tied) == 1:
                return Resolution(raw, tied[0], "typo", edit_distance=best)
            return Resolution(raw, name, "ambiguous", tuple(tied))
    for k in range(1, len(words)):  # longest trailing words first: "brown leather sofa" -> "leather sofa", "sofa"
        tail = " ".join(words[k:])
        sub = resolve(tail, categories)
        if sub.how in ("exact", "spelling variant", "plural", "synonym"):
            return Resolution(raw, sub.name, "head noun")
    return Resolution(raw, name, "none", tuple(suggest_category(name, list(cats.values()))))


def resolve_category(raw: str, categories: Sequence[str]) -> str:
    """The memory category for a name as written (see :func:`resolve`); the cleaned name when none or ambiguous."""
    return resolve(raw, categories).name


def category_hint(name: str, categories) -> str:
    """The repair hint for a category name that is not in the memory: closest names, then the known ones."""
    cats = list(categories)
    sugg = suggest_category(name, cats)
    known = ", ".join(cats[:30]) or "(none)"
    return (f'did you mean "{sugg[0]}"' + (f" (or {', '.join(repr(s) for s in sugg[1:])})" if sugg[1:] else "")
            + "? " if sugg else "") + f"categories in this memory: {known}"
