"""Parse the expressions PostgreSQL prints in ``EXPLAIN (VERBOSE)`` output lists.

Only what nullability needs: column references, literals, parameters, function
calls (with ``FILTER`` / ``OVER``), operator chains, ``CASE``, constructors and
references to sub-plans. Operator precedence does not matter here (the printer
parenthesises every operator expression) and anything not understood becomes
:class:`Opaque`, which the analysis treats as "cannot tell".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "Call",
    "Case",
    "Col",
    "Ctor",
    "Expr",
    "Lit",
    "Opaque",
    "Ops",
    "Param",
    "Sub",
    "parse_expr",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class Lit:
    null: bool


@dataclass(frozen=True, slots=True)
class Col:
    alias: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Param:
    number: int


@dataclass(frozen=True, slots=True)
class Sub:
    kind: str  # "InitPlan" or "SubPlan"
    number: int
    column: int  # 1-based


@dataclass(frozen=True, slots=True)
class Ctor:
    """``ARRAY[...]``, ``ARRAY(...)``, ``ROW(...)``, ``EXISTS(...)``: never NULL."""


@dataclass(frozen=True, slots=True)
class Call:
    schema: str | None
    name: str  # lower case
    args: tuple[Expr, ...]
    text: str  # the call as printed, with its FILTER / OVER / WITHIN GROUP suffix
    filtered: bool = False
    window: str | None = None
    within: tuple[Expr, ...] = ()  # WITHIN GROUP (ORDER BY ...) of an ordered-set aggregate


@dataclass(frozen=True, slots=True)
class Ops:
    """An operator chain: ``a = b``, ``x IS NOT NULL``, ``NOT a``, ``a AND b AND c``."""

    ops: tuple[str, ...]
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Case:
    results: tuple[Expr, ...]
    has_else: bool


@dataclass(frozen=True, slots=True)
class Opaque:
    text: str = field(default="")


Expr = Lit | Col | Param | Sub | Ctor | Call | Ops | Case | Opaque

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>[Ee]?'(?:[^']|'')*')
    | (?P<qid>"(?:[^"]|"")*")
    | (?P<param>\$\d+)
    | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<id>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<cast>::)
    | (?P<punct>[(),\[\].])
    | (?P<op>[-+*/<>=~!@\#%^&|`?]+)
    )""",
    re.X,
)
_OP_WORDS = _words(
    "and or not is isnull notnull like ilike similar to distinct from between symmetric "
    "in escape overlaps at time zone"
)
_BARE_VALUES = _words(
    "current_timestamp current_date current_time localtimestamp localtime current_user "
    "session_user current_role current_catalog current_schema user true false"
)
_TYPE_WORDS = _words("with without time zone varying precision")
_ARG_WORDS = _words(
    "from for placing in distinct all order by similar escape both leading trailing"
)


@dataclass(slots=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "id" else ""


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m or m.lastgroup is None:
            if text[i:].strip():
                raise ValueError(f"cannot tokenize {text[i:]!r}")
            break
        out.append(_Tok(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup), m.end()))
        i = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> _Tok | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise ValueError("unexpected end")
        self.i += 1
        return tok

    def at(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and (tok.word or tok.text) == text

    def at_word(self, words: frozenset[str]) -> bool:
        tok = self.peek()
        return tok is not None and tok.word in words

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise ValueError(f"expected {text!r}")
        self.i += 1

    def sequence(self, stops: frozenset[str] = frozenset()) -> Expr:
        """Operands joined by operators, up to ``)``, ``]``, ``,`` or a stop word."""
        ops: list[str] = []
        args: list[Expr] = []
        while (tok := self.peek()) is not None:
            if tok.text in (")", "]", ",") or tok.word in stops:
                break
            if tok.kind == "op" or tok.word in _OP_WORDS:
                ops.append(self.take().word or tok.text)
            elif tok.word == "operator" and self.at("(", 1):
                ops.append(self.balanced_text())
            else:
                args.append(self.operand())
        if not ops and len(args) == 1:
            return args[0]
        if not args:
            raise ValueError("empty expression")
        return Ops(tuple(ops), tuple(args))

    def balanced_text(self) -> str:
        """Skip a word and its parenthesised argument; return the text."""
        start = self.take().start
        self.skip_group()
        return self.text[start : self.toks[self.i - 1].end]

    def skip_group(self) -> None:
        """Skip from an opening ``(`` or ``[`` to its match."""
        depth = 0
        while (tok := self.take()) is not None:
            if tok.text in "([":
                depth += 1
            elif tok.text in ")]":
                depth -= 1
                if depth == 0:
                    return

    def operand(self) -> Expr:
        node = self.primary()
        while True:
            tok = self.peek()
            if tok is None:
                return node
            if tok.kind == "cast":
                self.take()
                self.skip_type()
            elif tok.text == "[":
                self.skip_group()
                node = Ops(("[]",), (node,))
            elif tok.word == "collate":
                self.take()
                self.take()
            elif tok.text == "." and isinstance(node, Sub | Opaque):
                self.take()
                node = self.field_of(node, self.take().text)
            else:
                return node

    def field_of(self, node: Expr, name: str) -> Expr:
        m = re.fullmatch(r"col(\d+)", name)
        if isinstance(node, Sub) and m:
            return Sub(node.kind, node.number, int(m.group(1)))
        return Opaque(name)

    def skip_type(self) -> None:
        self.take()  # the type name (maybe schema-qualified below)
        while self.at("."):
            self.take()
            self.take()
        while (tok := self.peek()) is not None and tok.word in _TYPE_WORDS:
            self.take()
        while self.at("(") or self.at("["):
            self.skip_group()

    def primary(self) -> Expr:
        tok = self.take()
        if tok.text == "(":
            return self.paren()
        if tok.kind in ("str", "num"):
            return Lit(False)
        if tok.kind == "param":
            return Param(int(tok.text[1:]))
        if tok.kind in ("id", "qid"):
            return self.word(tok)
        raise ValueError(f"unexpected {tok.text!r}")

    def paren(self) -> Expr:
        first = self.peek()
        if first is not None and first.word in ("initplan", "subplan", "hashed", "alternatives"):
            return self.subplan()
        node = self.sequence()
        self.expect(")")
        return node

    def subplan(self) -> Expr:
        words = []
        while not self.at(")"):
            words.append(self.take().text)
        self.expect(")")
        m = re.search(r"(InitPlan|SubPlan) (\d+)", " ".join(words))
        if not m or "alternatives" in words[0].lower():
            return Opaque(" ".join(words))
        return Sub(m.group(1), int(m.group(2)), 1)

    def word(self, tok: _Tok) -> Expr:
        w = tok.word
        if w == "null":
            return Lit(True)
        if w in _BARE_VALUES and not self.at("("):
            return Lit(False)
        if w == "case":
            return self.case()
        if w in ("array", "row", "exists") and (self.at("(") or self.at("[")):
            self.i -= 1
            self.balanced_text()
            return Ctor()
        return self.name_or_call(tok)

    def name_or_call(self, tok: _Tok) -> Expr:
        parts = [_ident(tok)]
        while self.at(".") and self.peek(1) is not None:
            self.take()
            parts.append(_ident(self.take()))
        if not self.at("("):
            if len(parts) > 2:
                return Opaque(".".join(parts))
            return Col(parts[0] if len(parts) == 2 else None, parts[-1])
        args = self.arguments()
        schema = parts[0] if len(parts) > 1 else None
        return self.call_suffix(Call(schema, parts[-1].lower(), args, ""), tok.start)

    def arguments(self) -> tuple[Expr, ...]:
        self.expect("(")
        args: list[Expr] = []
        while not self.at(")"):
            if self.at(",") or self.at_word(_ARG_WORDS) or self.at("*"):
                self.take()
            else:
                args.append(self.sequence(_ARG_WORDS))
        self.expect(")")
        return tuple(args)

    def call_suffix(self, call: Call, start: int) -> Call:
        filtered, window, within = False, None, call.within
        while True:
            if self.at("filter") and self.at("(", 1):
                self.take()
                self.skip_group()
                filtered = True
            elif self.at("over"):
                self.take()
                window = self.balanced_text() if self.at("(") else self.take().text
            elif self.at("within") and self.at("group", 1):
                self.take()
                self.take()
                within = self.arguments()
            else:
                break
        text = self.text[start : self.toks[self.i - 1].end]
        return Call(call.schema, call.name, call.args, text, filtered, window, within)

    def case(self) -> Expr:
        results: list[Expr] = []
        has_else = False
        if not self.at("when"):
            self.sequence(frozenset({"when"}))
        while not self.at("end"):
            word = self.take().word
            node = self.sequence(frozenset({"when", "then", "else", "end"}))
            if word in ("then", "else"):
                results.append(node)
                has_else = has_else or word == "else"
        self.expect("end")
        return Case(tuple(results), has_else)


def _ident(tok: _Tok) -> str:
    if tok.kind == "qid":
        return tok.text[1:-1].replace('""', '"')
    return tok.text


def parse_expr(text: str) -> Expr:
    """The expression printed as ``text``; :class:`Opaque` when it is not understood."""
    try:
        parser = _Parser(text)
        node = parser.sequence()
        if parser.peek() is not None:
            return Opaque(text)
        return node
    except (ValueError, IndexError):
        return Opaque(text)
