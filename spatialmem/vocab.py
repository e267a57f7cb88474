"""The one vocabulary: everyday object names, plurals and typos mapped onto memory categories.

A leaf module (imports nothing from the package): the checker's hints (E240), the interpreter's
run-time category errors and the planners' name resolution all read these tables, so a synonym added
here is understood everywhere at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

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
}
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


def resolve_category(raw: str, categories: Sequence[str]) -> str:
    """Map a category as written in a question onto the memory's category names.

    Tries, in order: the exact (lower-cased, "(s)" removed) name, hyphen/space variants, singular
    forms of the last word, and common synonyms (couch -> sofa). Returns the cleaned name unchanged
    when nothing matches, so the query-language checker can report it with suggestions.
    """
    name = clean_category(raw)
    cats = {c.lower(): c for c in categories}
    if not cats:
        return name
    candidates = [name, name.replace("-", " "), name.replace(" ", "-"), name.replace(" ", "")]
    words = name.split(" ")
    for sing in singulars(words[-1]):
        candidates.append(" ".join(words[:-1] + [sing]))
    for cand in candidates:
        if cand in cats:
            return cats[cand]
    for cand in candidates:
        for target in SYNONYMS.get(cand, ()):
            if target in cats:
                return cats[target]
    return name


def category_hint(name: str, categories) -> str:
    """The repair hint for a category name that is not in the memory: closest names, then the known ones."""
    cats = list(categories)
    sugg = suggest_category(name, cats)
    known = ", ".join(cats[:30]) or "(none)"
    return (f'did you mean "{sugg[0]}"' + (f" (or {', '.join(repr(s) for s in sugg[1:])})" if sugg[1:] else "")
            + "? " if sugg else "") + f"categories in this memory: {known}"
