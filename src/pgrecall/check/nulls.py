"""Which result columns can be NULL, read from the statement's generic plan.

The plan (``EXPLAIN (VERBOSE, FORMAT JSON)`` under ``plan_cache_mode =
force_generic_plan``) names, for every node, its output expressions and, for
joins, the join type. A column reference is NULL-able when its table column lacks
``NOT NULL`` or when the scan it comes from sits on the NULL-extended side of an
outer join; set operations join their members position by position; subquery and
CTE scans are followed into their plans; expressions follow the rules in
:func:`_call` and :func:`_ops`. What cannot be decided is :attr:`Null.UNKNOWN`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import IntEnum
from typing import Any

from .expr import Call, Case, Col, Ctor, Expr, Lit, Ops, Param, Sub, parse_expr

__all__ = ["Columns", "Null", "PlanNulls"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Null(IntEnum):
    """Ordered so that ``max`` is "can it be NULL?" over several inputs."""

    NOT_NULL = 0
    UNKNOWN = 1
    NULLABLE = 2


Plan = Mapping[str, Any]
Columns = Callable[[str, str], Mapping[str, bool]]  # (schema, table) -> {column: not null}

_SUBPLANS = ("InitPlan", "SubPlan")
_SET_OPS = frozenset({"Append", "Merge Append", "Recursive Union", "SetOp"})
_SYSTEM_COLUMNS = frozenset({"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"})

_NEVER_NULL = _words(
    "count row_number rank dense_rank percent_rank cume_dist ntile now clock_timestamp "
    "statement_timestamp transaction_timestamp timeofday gen_random_uuid uuidv4 uuidv7 "
    "random concat jsonb_build_object json_build_object jsonb_build_array "
    "json_build_array num_nulls num_nonnulls pg_backend_pid current_database version "
    "pg_is_in_recovery"
)
_FIRST_NON_NULL = frozenset({"coalesce", "greatest", "least"})
_MAY_BE_NULL = _words(
    "nullif lag lead first_value last_value nth_value array_length array_upper "
    "array_lower array_position regexp_match jsonb_extract_path jsonb_extract_path_text "
    "json_extract_path json_extract_path_text"
)
# NULL only for a NULL argument (strict and never NULL otherwise)
_STRICT = _words(
    "lower upper initcap length char_length character_length octet_length bit_length abs "
    "ceil ceiling floor round trunc sign sqrt exp ln log power mod btrim ltrim rtrim trim "
    "lpad rpad left right substr replace translate repeat reverse md5 sha256 "
    "encode decode to_char to_number to_date to_timestamp date_trunc age make_interval "
    "split_part strpos position starts_with overlay set_bit get_bit uuid_send int8send "
    "quote_ident quote_literal to_tsvector setweight websearch_to_tsquery plainto_tsquery "
    "to_tsquery phraseto_tsquery ts_rank ts_rank_cd ts_headline jsonb_typeof json_typeof "
    "jsonb_array_length jsonb_strip_nulls jsonb_set jsonb_pretty to_jsonb to_json "
    "row_to_json array_to_string string_to_array cardinality array_append array_prepend "
    "array_cat array_remove l2_distance cosine_distance inner_product l1_distance "
    "vector_dims vector_norm l2_normalize binary_quantize subvector hamming_distance "
    "jaccard_distance timezone float8 int4 int8 text numeric set_config"
)
_EXTRACT = frozenset({"extract", "date_part"})
# aggregates: NULL over no rows; over a non-empty group as below
_AGG_SKIP_NULLS = _words(
    "sum avg min max bool_and bool_or every bit_and bit_or bit_xor string_agg any_value "
    "range_agg range_intersect_agg"
)
_AGG_ORDERED = frozenset({"percentile_cont", "percentile_disc", "mode"})
_AGG_KEEP = _words("array_agg json_agg jsonb_agg json_object_agg jsonb_object_agg")
_AGG_ONE_ROW_NULL = _words(
    "stddev stddev_samp variance var_samp covar_samp corr regr_slope regr_intercept"
)
_NULL_OPS = frozenset({"->", "->>", "#>", "#>>", "[]"})
_TRUTH_OPS = frozenset({"is", "isnull", "notnull"})
_UNSAFE_FRAME = re.compile(r"(?<!UNBOUNDED) (?:PRECEDING|FOLLOWING)|EXCLUDE")


def _children(node: Plan) -> Iterator[tuple[str, Plan]]:
    for child in node.get("Plans", ()):
        yield child.get("Parent Relationship", ""), child


def _walk(node: Plan, *, subplans: bool = True) -> Iterator[Plan]:
    yield node
    for rel, child in _children(node):
        if subplans or rel not in _SUBPLANS:
            yield from _walk(child, subplans=subplans)


def _null_extended(node: Plan, relationship: str) -> bool:
    """Is the child on ``relationship`` the NULL-extended side of ``node``'s join?"""
    join = node.get("Join Type")
    if join == "Full":
        return relationship in ("Outer", "Inner")
    return (join, relationship) in (("Left", "Inner"), ("Right", "Outer"))


def _is_scan(node: Plan) -> bool:
    return "Alias" in node


class PlanNulls:
    """Nullability of a plan's output columns.

    ``columns(schema, table)`` returns ``{column: attnotnull}`` for a table;
    ``nparams`` is the statement's parameter count (to tell ``$n`` apart on 16).
    Parameters count as not NULL (the caller decides) except ``nullable_params``.
    """

    def __init__(
        self, plan: Plan, columns: Columns, nparams: int, nullable_params: Iterable[int] = ()
    ) -> None:
        self.root = plan
        self.columns = columns
        self.nparams = nparams
        self.nullable_params = frozenset(nullable_params)
        self._memo: dict[tuple[int, int], Null] = {}

    def outputs(self, count: int) -> list[Null]:
        """The nullability of the first ``count`` output columns of the plan's root."""
        return [self.output(self.root, k) for k in range(count)]

    def output(self, node: Plan, k: int) -> Null:
        key = (id(node), k)
        if key not in self._memo:
            self._memo[key] = Null.UNKNOWN  # a cycle (recursive CTE) stays unknown
            self._memo[key] = self._output(node, k)
        return self._memo[key]

    def _output(self, node: Plan, k: int) -> Null:
        kids = [(rel, c) for rel, c in _children(node) if rel not in _SUBPLANS]
        if node.get("Node Type") in _SET_OPS:
            return max((self.output(c, k) for _, c in kids), default=Null.UNKNOWN)
        out = node.get("Output")
        if len(kids) == 1 and (not out or kids[0][1].get("Node Type") in _SET_OPS):
            return self.output(kids[0][1], k)  # a node passing its child's rows on
        if not out or k >= len(out):
            return Null.UNKNOWN
        e = parse_expr(out[k])
        if isinstance(e, Col) and self._scan_of(node, e) is not None:
            return self.column(node, e.alias, e.name)  # down the path, filters included
        if node.get("Node Type") != "ModifyTable":  # RETURNING reads the new row
            for rel, kid in kids:
                j = _index_of(kid, out[k])
                if j is not None:
                    return Null.NULLABLE if _null_extended(node, rel) else self.output(kid, j)
        return self.expr(e, node)

    def _scan_of(self, node: Plan, col: Col) -> str | None:
        """The alias of the scan below ``node`` that ``col`` reads, if there is one."""
        alias = col.alias if col.alias is not None else self._unqualified(node, col.name)
        return alias if alias is not None and self._path(node, alias) is not None else None

    def expr(self, e: Expr, node: Plan) -> Null:
        """Nullability of expression ``e`` evaluated at ``node``."""
        if isinstance(e, Lit):
            return Null.NULLABLE if e.null else Null.NOT_NULL
        if isinstance(e, Ctor):
            return Null.NOT_NULL
        if isinstance(e, Col):
            return self.column(node, e.alias, e.name)
        if isinstance(e, Param):
            return self.param(e.number)
        if isinstance(e, Sub):
            return self.subplan(e.kind, e.number, e.column)
        if isinstance(e, Call):
            return self.call(e, node)
        if isinstance(e, Ops):
            return self.ops(e, node)
        if isinstance(e, Case):
            worst = max((self.expr(r, node) for r in e.results), default=Null.NULLABLE)
            return worst if e.has_else else Null.NULLABLE
        return Null.UNKNOWN

    def _all(self, args: Iterable[Expr], node: Plan) -> Null:
        """Strict: NULL when any argument is."""
        return max((self.expr(a, node) for a in args), default=Null.NOT_NULL)

    def ops(self, e: Ops, node: Plan) -> Null:
        if _TRUTH_OPS.intersection(e.ops):
            return Null.NOT_NULL
        if _NULL_OPS.intersection(e.ops):
            return Null.NULLABLE
        return self._all(e.args, node)

    def call(self, e: Call, node: Plan) -> Null:
        name = e.name if e.schema in (None, "pg_catalog") else ""
        if name in _NEVER_NULL:
            return Null.NOT_NULL
        if name in _FIRST_NON_NULL:
            return min((self.expr(a, node) for a in e.args), default=Null.NULLABLE)
        if name in _MAY_BE_NULL:
            return Null.NULLABLE
        if name in _EXTRACT:
            return self._all(e.args[-1:], node)
        if name in ("any", "all", "some"):
            return Null.UNKNOWN if _has_sub(e.args) else self._all(e.args, node)
        if name == "concat_ws":
            return self._all(e.args[:1], node)
        if name == "current_setting":  # (name, missing_ok) is NULL for a missing setting
            return self._all(e.args, node) if len(e.args) == 1 else Null.NULLABLE
        if name in _AGG_SKIP_NULLS | _AGG_KEEP | _AGG_ONE_ROW_NULL | _AGG_ORDERED:
            return self.aggregate(e, name, node)
        if name in _STRICT:
            return self._all(e.args, node)
        return Null.UNKNOWN

    def aggregate(self, e: Call, name: str, node: Plan) -> Null:
        grouped = self._grouped(e, node)
        if grouped is None:
            return Null.UNKNOWN
        if not grouped or e.filtered or name in _AGG_ONE_ROW_NULL:
            return Null.NULLABLE
        if name in _AGG_KEEP:
            return Null.NOT_NULL
        return self._all(e.within if name in _AGG_ORDERED else e.args[:1], node)

    def _grouped(self, e: Call, node: Plan) -> bool | None:
        """True: over a non-empty group; False: maybe no rows; None: cannot tell."""
        if e.window is not None:
            frame = self._window(node, e.window)
            return None if frame is None or _UNSAFE_FRAME.search(frame) else True
        for n in _walk(node, subplans=False):
            if n.get("Node Type") in ("Aggregate", "Group") and _outputs_call(n, e.text):
                return n.get("Strategy") in ("Sorted", "Hashed") or n["Node Type"] == "Group"
        return None

    def _window(self, node: Plan, name: str) -> str | None:
        for n in _walk(node, subplans=False):
            window = n.get("Window")
            if isinstance(window, str) and window.startswith(f"{name} AS "):
                return window
        return None

    def param(self, number: int) -> Null:
        """``$n``: a parameter (the caller decides), or an InitPlan output on 16."""
        for n in _walk(self.root):
            m = re.search(r"returns (.*)\)$", str(n.get("Subplan Name", "")))
            names = m.group(1).split(",") if m else []
            if f"${number}" in names:
                if number <= self.nparams:
                    return Null.UNKNOWN  # $n is both a parameter and an InitPlan output
                return self._one_row(n, names.index(f"${number}"))
        return Null.NULLABLE if number in self.nullable_params else Null.NOT_NULL

    def subplan(self, kind: str, number: int, column: int) -> Null:
        for n in _walk(self.root):
            if re.match(rf"{kind} {number}\b", str(n.get("Subplan Name", ""))):
                return self._one_row(n, column - 1)
        return Null.UNKNOWN

    def _one_row(self, node: Plan, k: int) -> Null:
        """A scalar sub-select: NULL when it finds no row, unless it is a plain aggregate."""
        if node.get("Node Type") == "Aggregate" and node.get("Strategy") == "Plain":
            return self.output(node, k)
        return Null.NULLABLE

    def column(self, node: Plan, alias: str | None, name: str) -> Null:
        """Column ``alias.name`` as ``node`` outputs it.

        Walking down to its scan: a qualifier on the way that rules NULL out (``x IS
        NOT NULL``, ``x = ...``) makes it not NULL, unless an outer join below that
        point NULL-extends the scan; else the scan decides.
        """
        if alias is None:
            alias = self._unqualified(node, name)
        path = self._path(node, alias) if alias is not None else None
        if path is None:
            return Null.UNKNOWN
        for n, rel in path:
            if (alias, name) in _quals_not_null(n) or (None, name) in _quals_not_null(n):
                return Null.NOT_NULL
            if rel is not None and _null_extended(n, rel):
                return Null.NULLABLE
        return self.scan_column(path[-1][0], name)

    def _path(self, node: Plan, alias: str) -> list[tuple[Plan, str | None]] | None:
        """Nodes from ``node`` down to the scan ``alias``, each with the step taken."""
        if node.get("Alias") == alias:
            return [(node, None)]
        for rel, child in _children(node):
            if rel not in _SUBPLANS:
                below = self._path(child, alias)
                if below is not None:
                    return [(node, rel), *below]
        return None

    def _unqualified(self, node: Plan, name: str) -> str | None:
        """The alias an unqualified ``name`` refers to: the one scan (with that column)."""
        scans = [n for n in _walk(node, subplans=False) if _is_scan(n)]
        if node.get("Node Type") == "ModifyTable" or len(scans) == 1:
            return str(scans[0]["Alias"]) if scans else None
        having = [s for s in scans if name in self._relation_columns(s)]
        return str(having[0]["Alias"]) if len(having) == 1 else None

    def _relation_columns(self, scan: Plan) -> Mapping[str, bool]:
        if "Relation Name" not in scan:
            return {}
        return self.columns(str(scan.get("Schema", "")), str(scan["Relation Name"]))

    def scan_column(self, scan: Plan, name: str) -> Null:
        if "Relation Name" in scan:
            if name in _SYSTEM_COLUMNS:
                return Null.NOT_NULL
            notnull = self._relation_columns(scan).get(name)
            return Null.UNKNOWN if notnull is None else Null(0 if notnull else 2)
        source: Plan | None = None
        if scan.get("Node Type") == "Subquery Scan":
            source = next((c for r, c in _children(scan) if r == "Subquery"), None)
        elif scan.get("Node Type") == "CTE Scan":
            source = self._cte(str(scan.get("CTE Name")))
        return self._source_column(scan, source, name) if source is not None else Null.UNKNOWN

    def _cte(self, name: str) -> Plan | None:
        want = f"CTE {name}"
        return next((n for n in _walk(self.root) if n.get("Subplan Name") == want), None)

    def _source_column(self, scan: Plan, source: Plan, name: str) -> Null:
        """Column ``name`` of a subquery / CTE scan, read from the plan that feeds it.

        By position when the scan starts with every column of the source, in order
        (a physical target list); else the source outputs that are a column ``name``;
        else, for a one-column source, that column.
        """
        outs = source.get("Output") or _first_output(source)
        k = _position(scan, outs, name)
        if k is not None:
            return self.output(source, k)
        hits = [k for k, text in enumerate(outs) if _column_name(text) == name]
        if not hits and len(outs) == 1:
            hits = [0]
        return max((self.output(source, k) for k in hits), default=Null.UNKNOWN)


def _position(scan: Plan, source_outputs: Sequence[str], name: str) -> int | None:
    mine = [parse_expr(o) for o in (scan.get("Output") or ())[: len(source_outputs)]]
    if len(mine) < len(source_outputs):
        return None
    names = [c.name if isinstance(c, Col) and c.alias == scan.get("Alias") else None for c in mine]
    if None in names or name not in names:
        return None
    for mine_name, theirs in zip(names, source_outputs, strict=True):
        other = _column_name(theirs)
        if other is not None and other != mine_name:
            return None
    return names.index(name)


def _bare(text: str) -> str:
    """``text`` without parentheses around the whole of it."""
    text = text.strip()
    while text.startswith("(") and _closing(text) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str) -> int:
    """Index of the parenthesis closing ``text[0]`` (quotes skipped), or -1."""
    depth, quote = 0, ""
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _index_of(node: Plan, text: str) -> int | None:
    """Position of expression ``text`` among ``node``'s outputs (parentheses aside)."""
    want = _bare(text)
    for j, o in enumerate(node.get("Output") or ()):
        if _bare(o) == want:
            return j
    return None


_QUALS = ("Filter", "Index Cond", "Recheck Cond", "TID Cond")
_JOIN_QUALS = ("Join Filter", "Hash Cond", "Merge Cond")
_STRICT_QUAL_OPS = _words("= <> < > <= >= ~~ ~~* !~~ !~~* ~ ~* @@ @> <@ && ? ?| ?& like ilike")


def _quals_not_null(node: Plan) -> set[tuple[str | None, str]]:
    """Columns a qualifier of ``node`` rules NULL out for every row the node emits.

    The top-level AND terms of its filters (and of its join conditions for an inner
    or semi join): ``x IS NOT NULL``, and the columns under a strict comparison.
    """
    keys = _QUALS + (_JOIN_QUALS if node.get("Join Type", "Inner") in ("Inner", "Semi") else ())
    found: set[tuple[str | None, str]] = set()
    for key in keys:
        text = node.get(key)
        if isinstance(text, str):
            for term in _conjuncts(parse_expr(text)):
                found.update((c.alias, c.name) for c in _non_null_columns(term))
    return found


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Ops) and e.ops and all(op == "and" for op in e.ops):
        return [t for a in e.args for t in _conjuncts(a)]
    return [e]


def _non_null_columns(term: Expr) -> list[Col]:
    if not isinstance(term, Ops) or len(term.args) != 2:
        return []
    if term.ops == ("is", "not") and term.args[1] == Lit(True):
        return [a for a in term.args[:1] if isinstance(a, Col)]
    if len(term.ops) == 1 and term.ops[0] in _STRICT_QUAL_OPS:
        return [a for a in term.args if isinstance(a, Col)]
    return []


def _first_output(node: Plan) -> list[str]:
    for n in _walk(node, subplans=False):
        if n.get("Output"):
            return list(n["Output"])
    return []


def _column_name(text: str) -> str | None:
    e = parse_expr(text)
    return e.name if isinstance(e, Col) else None


def _outputs_call(node: Plan, text: str) -> bool:
    return any(o == text or o == f"({text})" for o in node.get("Output") or ())


def _has_sub(args: Iterable[Expr]) -> bool:
    for a in args:
        if isinstance(a, Sub):
            return True
        if isinstance(a, Ops | Call) and _has_sub(a.args):
            return True
    return False
