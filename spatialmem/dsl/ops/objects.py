"""Operations on the remembered objects: lookup by category or id, counting, ranking and filtering."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import OBJECTS, P, op
from spatialmem.dsl.runtime import Context, Fail, center_distance, closest_distance, describe, first_seen, instances
from spatialmem.dsl.values import ObjectSet, Quantity
from spatialmem.memory.scene import ObjectInstance

SORT_KEYS: tuple[str, ...] = ("distance", "center_distance", "height", "volume", "longest_side", "first_seen",
                              "last_seen", "x", "y", "z")
_OBJ_OR_CATS = T.union(T.OBJECTS, T.TEXTS)
_OPT_OBJ = T.union(T.OBJECT, T.NOTHING)
_OPT_M = T.union(T.METRES, T.NOTHING)
_METRIC = P("metric", T.TEXT, "closest", choices=("closest", "center"))


@op("objects", P("category", T.TEXT, category=True), returns=T.OBJECTS, section=OBJECTS,
    doc="All remembered objects of a category (possibly none).", example='chairs = objects("chair")')
def objects(ctx: Context, category: str) -> ObjectSet:
    return ObjectSet(tuple(instances(ctx, category)))


@op("all_objects", returns=T.OBJECTS, section=OBJECTS, doc="Every remembered object.",
    example="n = count(all_objects())")
def all_objects(ctx: Context) -> ObjectSet:
    return ObjectSet(tuple(ctx.memory.instances))


def quote(text: str) -> str:
    """A query-language string literal for ``text`` (double quotes, backslash escapes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def largest_of(category: str) -> str:
    """Program text for the largest object of ``category``: what a question that names one object means
    when the memory holds several (the extras are usually fragments of one object, split by perception)."""
    return f'first(sort_by(objects({quote(category)}), key="volume", descending=true))'


@op("the", P("category", T.TEXT, category=True), returns=T.OBJECT, section=OBJECTS,
    doc="The single object of a category; a runtime error (R400) lists them when there is not exactly one.",
    example='sofa = the("sofa")')
def the(ctx: Context, category: str) -> ObjectInstance:
    insts = instances(ctx, category)
    if len(insts) == 1:
        return insts[0]
    if not insts:
        raise Fail(D.EMPTY, f'there is no "{category}" in the memory', "see categories() for what exists")
    listing = "; ".join(describe(o) for o in insts[:8])
    raise Fail(D.AMBIGUOUS,
               f'the("{category}") needs exactly one {category} but the memory has {len(insts)}: {listing}',
               f'if the question means one {category}, take the largest: {largest_of(category)}; otherwise use '
               f'objects("{category}") with nearest(...), farthest(...), sort_by(...) or where(...), '
               f'or count(objects("{category}"))')


@op("object", P("id", T.PLAIN), returns=T.OBJECT, section=OBJECTS, doc="The object with this id.",
    example="o = object(3)")
def object_by_id(ctx: Context, id: Quantity) -> ObjectInstance:
    want = int(round(id.value))
    for o in ctx.memory.instances:
        if o.id == want:
            return o
    ids = ", ".join(str(o.id) for o in ctx.memory.instances[:20])
    raise Fail(D.OUT_OF_RANGE, f"there is no object with id {want}", f"existing ids: {ids}")


@op("count", P("what", T.union(T.OBJECTS, T.TEXT), category=True), returns=T.COUNT, section=OBJECTS,
    doc="How many objects: of a set, or of a category name.", example='answer(count(objects("chair")))')
def count(ctx: Context, what: ObjectSet | str) -> Quantity:
    n = len(what.items) if isinstance(what, ObjectSet) else len(instances(ctx, what))
    return Quantity(float(n), "count")


@op("categories", returns=T.TEXTS, section=OBJECTS, doc="The category names in the memory, sorted.",
    example="cats = categories()")
def categories(ctx: Context) -> tuple[str, ...]:
    return tuple(ctx.memory.categories())


@op("first", P("objects", T.OBJECTS), returns=T.OBJECT, section=OBJECTS, doc="The first object of a (sorted) set.",
    example='first(sort_by(objects("chair"), key="height"))')
def first(ctx: Context, objects: ObjectSet) -> ObjectInstance:
    if not objects.items:
        raise Fail(D.EMPTY, "first(...) of an empty set of objects", "check count(...) first")
    return objects.items[0]


def _candidates(ctx: Context, to: ObjectInstance, among: ObjectSet | tuple[str, ...]) -> list[list[ObjectInstance]]:
    """Groups of candidates: one group per category for a category list, one per object otherwise."""
    if isinstance(among, ObjectSet):
        groups = [[o] for o in among.items if o is not to]
    else:
        groups = []
        for cat in among:
            insts = [o for o in instances(ctx, cat) if o is not to]
            if insts:
                groups.append(insts)
    if not groups:
        raise Fail(D.EMPTY, "there is nothing to choose from (no candidate objects other than the reference)",
                   "check the candidate categories with categories() or count(...)")
    return groups


def _extreme(ctx: Context, to: ObjectInstance, among: ObjectSet | tuple[str, ...], metric: str,
             farthest: bool) -> ObjectInstance:
    best, best_d = None, 0.0
    for group in _candidates(ctx, to, among):
        ctx.tick()
        ds = [closest_distance(ctx, to, o) if metric == "closest" else center_distance(to, o) for o in group]
        i = int(np.argmin(ds))
        d = ds[i]
        if best is None or (d > best_d if farthest else d < best_d):
            best, best_d = group[i], d
    assert best is not None  # _candidates never returns no group
    return best


@op("nearest", P("to", T.OBJECT), P("among", _OBJ_OR_CATS, category=True), _METRIC, returns=T.OBJECT,
    section=OBJECTS,
    doc="The candidate closest to `to` (closest-point distance; a category counts by its nearest instance).",
    example='nearest(the("bed"), among=["chair", "lamp"])')
def nearest(ctx: Context, to: ObjectInstance, among: ObjectSet | tuple[str, ...], metric: str) -> ObjectInstance:
    return _extreme(ctx, to, among, metric, farthest=False)


@op("farthest", P("to", T.OBJECT), P("among", _OBJ_OR_CATS, category=True), _METRIC, returns=T.OBJECT,
    section=OBJECTS, doc="The candidate farthest from `to` (a category counts by its nearest instance).",
    example='farthest(the("bed"), among=objects("chair"))')
def farthest(ctx: Context, to: ObjectInstance, among: ObjectSet | tuple[str, ...], metric: str) -> ObjectInstance:
    return _extreme(ctx, to, among, metric, farthest=True)


def _sort_key(ctx: Context, key: str, to: ObjectInstance | None, o: ObjectInstance) -> float:
    if key == "distance":
        assert to is not None
        return closest_distance(ctx, to, o)
    if key == "center_distance":
        assert to is not None
        return center_distance(to, o)
    if key == "height":
        return float(o.box.size[2])
    if key == "volume":
        return o.box.volume
    if key == "longest_side":
        return o.box.longest_side
    if key == "first_seen":
        return first_seen(o)
    if key == "last_seen":
        return float(o.last_seen_s) if o.last_seen_s is not None else float("inf")
    return float(o.box.center["xyz".index(key)])


@op("sort_by", P("objects", T.OBJECTS), P("key", T.TEXT, "distance", choices=SORT_KEYS), P("to", _OPT_OBJ, None),
    P("descending", T.BOOL, False), returns=T.OBJECTS, section=OBJECTS,
    doc="Objects sorted by a key (distance/center_distance need `to`), ascending unless descending=true.",
    example='sort_by(objects("chair"), key="distance", to=the("tv"))')
def sort_by(ctx: Context, objects: ObjectSet, key: str, to: ObjectInstance | None, descending: bool) -> ObjectSet:
    if key in ("distance", "center_distance") and to is None:
        raise Fail(D.NEEDS_REFERENCE, f"sort_by(..., key={key!r}) needs a reference object: to=the(...)",
                   'e.g. sort_by(objects("chair"), key="distance", to=the("bed"))')
    keyed = []
    for i, o in enumerate(objects.items):
        if i % 64 == 0:
            ctx.tick()
        keyed.append((_sort_key(ctx, key, to, o), o.id, o))
    ranked = tuple(o for _, _, o in sorted(keyed, key=lambda t: (t[0], t[1])))
    return ObjectSet(tuple(reversed(ranked)) if descending else ranked)


@op("where", P("objects", T.OBJECTS), P("category", T.union(T.TEXT, T.NOTHING), None, category=True),
    P("near", _OPT_OBJ, None), P("within", _OPT_M, None), P("beyond", _OPT_M, None), returns=T.OBJECTS,
    section=OBJECTS,
    doc="Objects filtered by category and/or closest-point distance to `near` (within: <=, beyond: >).",
    example='where(objects("chair"), near=the("table"), within=1.0)')
def where(ctx: Context, objects: ObjectSet, category: str | None, near: ObjectInstance | None,
          within: Quantity | None, beyond: Quantity | None) -> ObjectSet:
    if (within is not None or beyond is not None) and near is None:
        raise Fail(D.NEEDS_REFERENCE, "where(..., within=/beyond=) needs a reference object: near=the(...)",
                   'e.g. where(objects("chair"), near=the("table"), within=1.0)')
    out = []
    for i, o in enumerate(objects.items):
        if i % 64 == 0:
            ctx.tick()
        if category is not None and o.category != str(category).strip().lower():
            continue
        if near is not None and o is near:
            continue
        if near is not None and (within is not None or beyond is not None):
            d = closest_distance(ctx, near, o)
            if within is not None and d > within.value:
                continue
            if beyond is not None and d <= beyond.value:
                continue
        out.append(o)
    return ObjectSet(tuple(out))
