"""Contract tests of PgRecallVectorStore from llama-index-core's interface: add, delete by
ref_doc_id, every filter operator and condition (checked against LlamaIndex's own
in-memory filter semantics), each query mode, the async twins, and a VectorStoreIndex."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

import pgrecall
from pgrecall.errors import ConfigurationError, ValidationError
from pgrecall.integrations.llama_index import PgRecallVectorStore, node_uuid, to_filter

MODEL = "mock-3"
META: dict[str, dict[str, Any]] = {
    "n1": {"author": "ana", "year": 2021, "score": 0.5, "tags": ["a", "b"],
           "title": "Harbour Cranes"},
    "n2": {"author": "bob", "year": 2019, "score": 1.0, "tags": ["b"], "title": "port report"},
    "n3": {"author": "cy", "year": 2023, "score": 2, "tags": [], "title": ""},
    "n4": {"year": 2020, "tags": ["c"], "title": "harbour_cranes 100%"},
}  # fmt: skip
VECTORS = {
    "n1": [1.0, 0.0, 0.0],
    "n2": [0.8, 0.6, 0.0],
    "n3": [0.0, 1.0, 0.0],
    "n4": [0.0, 0.0, 1.0],
}
TEXTS = {
    "n1": "cranes in the harbour",
    "n2": "a report on the port",
    "n3": "ships at sea",
    "n4": "harbour cranes and ships",
}


def nodes(ref: str | None = "doc-1") -> list[TextNode]:
    out = []
    for i, meta in META.items():
        rel = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=ref)} if ref else {}
        ref_i = "doc-2" if i == "n4" else ref
        if ref_i:
            rel = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=ref_i)}
        node = TextNode(id_=i, text=TEXTS[i], metadata=meta, embedding=VECTORS[i])
        node.relationships = rel  # type: ignore[assignment]
        out.append(node)
    return out


@pytest.fixture
def vs(store: pgrecall.Store) -> PgRecallVectorStore:
    v = PgRecallVectorStore(store, tenant="acme", model=MODEL)
    assert v.add(nodes()) == list(META)
    return v


def ids(v: PgRecallVectorStore, **query: Any) -> list[str]:
    q = VectorStoreQuery(query_embedding=[1.0, 0.1, 0.1], similarity_top_k=10, **query)
    result = v.query(q)
    assert result.ids is not None
    return result.ids


def f(key: str, op: FilterOperator, value: Any) -> MetadataFilter:
    return MetadataFilter(key=key, operator=op, value=value)


FILTERS: list[MetadataFilters] = [
    MetadataFilters(filters=[f("author", FilterOperator.EQ, "ana")]),
    MetadataFilters(filters=[f("year", FilterOperator.EQ, 2019)]),
    MetadataFilters(filters=[f("score", FilterOperator.EQ, 1)]),  # 1 == 1.0
    MetadataFilters(filters=[f("author", FilterOperator.NE, "ana")]),  # missing matches
    MetadataFilters(filters=[f("year", FilterOperator.GT, 2020)]),
    MetadataFilters(filters=[f("year", FilterOperator.GTE, 2020)]),
    MetadataFilters(filters=[f("score", FilterOperator.LT, 1.0)]),
    MetadataFilters(filters=[f("score", FilterOperator.LTE, 1.0)]),
    MetadataFilters(filters=[f("author", FilterOperator.GT, "b")]),  # text order
    MetadataFilters(filters=[f("author", FilterOperator.IN, ["bob", "cy", "zed"])]),
    MetadataFilters(filters=[f("year", FilterOperator.IN, [2019, 2023])]),
    MetadataFilters(filters=[f("author", FilterOperator.NIN, ["bob"])]),
    MetadataFilters(filters=[f("tags", FilterOperator.ANY, ["a", "c"])]),
    MetadataFilters(filters=[f("tags", FilterOperator.ALL, ["a", "b"])]),
    MetadataFilters(filters=[f("tags", FilterOperator.CONTAINS, "b")]),
    MetadataFilters(filters=[f("title", FilterOperator.TEXT_MATCH, "harbour")]),
    MetadataFilters(filters=[f("title", FilterOperator.TEXT_MATCH, "_cranes 100%")]),
    MetadataFilters(filters=[f("title", FilterOperator.TEXT_MATCH_INSENSITIVE, "HARBOUR")]),
    MetadataFilters(filters=[f("tags", FilterOperator.IS_EMPTY, None)]),
    MetadataFilters(filters=[f("author", FilterOperator.IS_EMPTY, None)]),
    MetadataFilters(filters=[f("title", FilterOperator.IS_EMPTY, None)]),
    MetadataFilters(
        filters=[f("year", FilterOperator.GTE, 2020), f("author", FilterOperator.NE, "cy")],
        condition=FilterCondition.AND,
    ),
    MetadataFilters(
        filters=[f("author", FilterOperator.EQ, "ana"), f("year", FilterOperator.LT, 2020)],
        condition=FilterCondition.OR,
    ),
    MetadataFilters(
        filters=[f("author", FilterOperator.EQ, "ana"), f("year", FilterOperator.LT, 2020)],
        condition=FilterCondition.NOT,
    ),
]


def test_every_filter_operator_matches_llama_index_semantics(vs: PgRecallVectorStore) -> None:
    ops = {x.operator for m in FILTERS for x in m.filters if isinstance(x, MetadataFilter)}
    assert ops == set(FilterOperator)
    assert {m.condition for m in FILTERS} == set(FilterCondition)
    for flt in FILTERS:
        expected = sorted(i for i in META if build_metadata_filter_fn(META.__getitem__, flt)(i))
        assert sorted(ids(vs, filters=flt)) == expected, to_filter(flt)


def test_nested_filters(vs: PgRecallVectorStore) -> None:
    inner = MetadataFilters(
        filters=[f("author", FilterOperator.EQ, "bob"), f("year", FilterOperator.GT, 2022)],
        condition=FilterCondition.OR,
    )
    outer = MetadataFilters(filters=[inner, f("score", FilterOperator.GTE, 1)])
    assert sorted(ids(vs, filters=outer)) == ["n2", "n3"]
    with pytest.raises(ValidationError, match="invalid field name"):
        ids(vs, filters=MetadataFilters(filters=[f("a') OR 1=1 --", FilterOperator.EQ, 1)]))


def test_default_query_returns_nodes_nearest_first(vs: PgRecallVectorStore) -> None:
    q = VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=2)
    result = vs.query(q)
    assert result.ids == ["n1", "n2"]
    assert result.similarities == pytest.approx([1.0, 0.8])
    assert result.nodes is not None
    node = result.nodes[0]
    assert node.node_id == "n1" and node.get_content() == TEXTS["n1"]
    assert node.metadata == META["n1"] and node.ref_doc_id == "doc-1"
    assert ids(vs, doc_ids=["doc-2"]) == ["n4"]
    assert ids(vs, node_ids=["n3", "n2"]) == ["n2", "n3"]


def test_text_hybrid_and_mmr_modes(vs: PgRecallVectorStore) -> None:
    text = vs.query(
        VectorStoreQuery(
            query_str="cranes", mode=VectorStoreQueryMode.TEXT_SEARCH, similarity_top_k=5
        )
    )
    assert sorted(text.ids or []) == ["n1", "n4"]
    sparse = vs.query(VectorStoreQuery(query_str="ships", mode=VectorStoreQueryMode.SPARSE))
    assert len(sparse.ids or []) == 1
    hybrid = vs.query(
        VectorStoreQuery(
            query_str="ships", query_embedding=[0.0, 0.0, 1.0], similarity_top_k=2,
            mode=VectorStoreQueryMode.HYBRID,
        )
    )  # fmt: skip
    assert hybrid.ids == ["n4", "n3"]  # n4 is first in both lists, n3 matches "ships"
    vector_only = vs.query(
        VectorStoreQuery(
            query_str="ships", query_embedding=[1.0, 0.0, 0.0], similarity_top_k=2, alpha=1.0,
            mode=VectorStoreQueryMode.HYBRID,
        )
    )  # fmt: skip
    assert vector_only.ids == ["n1", "n2"]
    q = [1.0, 0.3, 0.0]
    plain = vs.query(VectorStoreQuery(query_embedding=q, similarity_top_k=2))
    assert plain.ids == ["n1", "n2"]
    mmr = vs.query(
        VectorStoreQuery(
            query_embedding=q, similarity_top_k=2, mode=VectorStoreQueryMode.MMR, mmr_threshold=0.1
        )
    )
    assert mmr.ids is not None and mmr.ids[0] == "n1" and mmr.ids[1] != "n2"  # diversified
    with pytest.raises(ValidationError, match="not supported"):
        vs.query(VectorStoreQuery(query_embedding=q, mode=VectorStoreQueryMode.SVM))
    with pytest.raises(ValidationError, match="needs query_str"):
        vs.query(VectorStoreQuery(query_embedding=q, mode=VectorStoreQueryMode.HYBRID))


def test_delete_by_ref_doc_id_and_nodes(vs: PgRecallVectorStore, store: pgrecall.Store) -> None:
    vs.delete("doc-1")
    assert ids(vs) == ["n4"]
    vs.delete("doc-1")  # again: nothing to do
    vs.add([TextNode(id_="free", text="no document", embedding=[0.0, 1.0, 0.0])])
    assert sorted(ids(vs)) == ["free", "n4"]
    assert [n.node_id for n in vs.get_nodes(["free", "missing"])] == ["free"]
    vs.delete_nodes(["free"])
    assert ids(vs) == ["n4"]
    with store.session(tenant="acme") as s:
        assert s.embeddings.count() == 1
        assert s.embeddings.get(node_uuid("n4")).content == TEXTS["n4"]


def test_add_again_replaces_the_node(vs: PgRecallVectorStore, store: pgrecall.Store) -> None:
    vs.add([TextNode(id_="n1", text="rewritten", embedding=[1.0, 0.0, 0.0], metadata={"v": 2})])
    got = vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=1))
    assert got.nodes is not None and got.nodes[0].get_content() == "rewritten"
    assert got.nodes[0].metadata == {"v": 2}
    with store.session(tenant="acme") as s:
        assert s.embeddings.count() == 4


def test_tenants_do_not_see_each_other(vs: PgRecallVectorStore, store: pgrecall.Store) -> None:
    other = PgRecallVectorStore(store, tenant="other", model=MODEL)
    other.add([TextNode(id_="x", text="other tenant", embedding=[1.0, 0.0, 0.0])])
    assert ids(other) == ["x"]
    assert "x" not in ids(vs)


async def test_async_store(astore: pgrecall.AsyncStore) -> None:
    v = PgRecallVectorStore(astore, tenant="acme", model=MODEL)
    assert await v.async_add(nodes()) == list(META)
    flt = MetadataFilters(filters=[f("year", FilterOperator.GTE, 2020)])
    res = await v.aquery(
        VectorStoreQuery(query_embedding=[1.0, 0, 0], similarity_top_k=10, filters=flt)
    )
    assert res.ids is not None and res.ids[0] == "n1" and sorted(res.ids) == ["n1", "n3", "n4"]
    for mode in (
        VectorStoreQueryMode.TEXT_SEARCH,
        VectorStoreQueryMode.HYBRID,
        VectorStoreQueryMode.MMR,
    ):
        got = await v.aquery(
            VectorStoreQuery(query_str="cranes", query_embedding=[1.0, 0, 0], mode=mode)
        )
        assert got.ids == ["n1"], mode
    await v.adelete("doc-1")
    res = await v.aquery(VectorStoreQuery(query_embedding=[1.0, 0, 0], similarity_top_k=10))
    assert res.ids == ["n4"]
    await v.adelete_nodes(["n4"])
    assert (await v.aquery(VectorStoreQuery(query_embedding=[1.0, 0, 0]))).ids == []
    with pytest.raises(ConfigurationError, match="async methods"):
        v.query(VectorStoreQuery(query_embedding=[1.0, 0, 0]))


async def test_async_methods_on_a_sync_store(store: pgrecall.Store) -> None:
    v = PgRecallVectorStore(store, tenant="acme", model=MODEL)
    await v.async_add(nodes())
    res = await v.aquery(VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0]))
    assert res.ids == ["n4"]
    await v.adelete("doc-2")
    assert sorted(ids(v)) == ["n1", "n2", "n3"]


def test_vector_store_index_retrieves_with_filters(store: pgrecall.Store) -> None:
    v = PgRecallVectorStore(store, tenant="acme", model="mock-8")
    ctx = StorageContext.from_defaults(vector_store=v)
    embed = MockEmbedding(embed_dim=8)
    plain = [TextNode(id_=k, text=TEXTS[k], metadata=META[k]) for k in META]
    index = VectorStoreIndex(plain, storage_context=ctx, embed_model=embed)
    flt = MetadataFilters(filters=[f("tags", FilterOperator.CONTAINS, "b")])
    found = index.as_retriever(similarity_top_k=5, filters=flt).retrieve("anything")
    assert sorted(n.node.node_id for n in found) == ["n1", "n2"]


async def test_async_index_on_an_async_store(astore: pgrecall.AsyncStore) -> None:
    v = PgRecallVectorStore(astore, tenant="acme", model="mock-8")
    index = VectorStoreIndex.from_vector_store(v, embed_model=MockEmbedding(embed_dim=8))
    await index.ainsert_nodes([TextNode(id_=k, text=TEXTS[k], metadata=META[k]) for k in META])
    flt = MetadataFilters(filters=[f("year", FilterOperator.LT, 2021)])
    found = await index.as_retriever(similarity_top_k=5, filters=flt).aretrieve("anything")
    assert sorted(n.node.node_id for n in found) == ["n2", "n4"]


def readme_block(heading: str) -> str:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index(f"\n{heading}\n")
    end = readme.find("\n#", start + len(heading) + 2)
    blocks: list[str] = re.findall(r"```python\n(.*?)```", readme[start:end], re.S)
    return blocks[0]


def test_readme_llama_index_example(store: pgrecall.Store) -> None:
    exec(readme_block("## LlamaIndex"), {"store": store})
    with store.session(tenant="acme") as s:
        assert s.embeddings.count() == 3
        assert s.kv.keys("llama_index/index_store/data")  # the index struct, in the KV store


def test_property_filters_match_llama_index(store: pgrecall.Store) -> None:
    """Random MetadataFilters over random metadata select what LlamaIndex's in-memory
    filter function selects (keys of one type each, as its Python comparisons need)."""
    words = st.text(alphabet="aAb%_", max_size=3)
    nums = st.one_of(st.integers(-2, 2), st.sampled_from([0.5, 1.0, -1.5]))
    metas = st.fixed_dictionaries(
        {}, optional={"n": nums, "s": words, "t": st.lists(words, max_size=3)}
    )

    def leaf(draw_key: str) -> st.SearchStrategy[tuple[str, FilterOperator, Any]]:
        ops: dict[str, list[tuple[FilterOperator, st.SearchStrategy[Any]]]] = {
            "n": [(o, nums) for o in (FilterOperator.EQ, FilterOperator.NE, FilterOperator.GT,
                                      FilterOperator.GTE, FilterOperator.LT, FilterOperator.LTE)]
            + [(FilterOperator.IN, st.lists(nums)), (FilterOperator.NIN, st.lists(nums))],
            "s": [(o, words) for o in (FilterOperator.EQ, FilterOperator.NE, FilterOperator.LT,
                                       FilterOperator.TEXT_MATCH,
                                       FilterOperator.TEXT_MATCH_INSENSITIVE)]
            + [(FilterOperator.IN, st.lists(words)), (FilterOperator.IS_EMPTY, st.none())],
            "t": [(FilterOperator.CONTAINS, words), (FilterOperator.ANY, st.lists(words)),
                  (FilterOperator.ALL, st.lists(words)), (FilterOperator.IS_EMPTY, st.none())],
        }  # fmt: skip
        return st.sampled_from(ops[draw_key]).flatmap(
            lambda ov: ov[1].map(lambda v: (draw_key, ov[0], v))
        )

    # plain tuples: the models are built in the test (building them draws on `random`)
    leaves = st.lists(st.sampled_from(["n", "s", "t"]).flatmap(leaf), min_size=1, max_size=3)
    conditions = st.sampled_from(list(FilterCondition))
    v = PgRecallVectorStore(store, tenant="acme", model=MODEL)

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.lists(metas, min_size=1, max_size=6), leaves, conditions)
    def run(
        rows: list[dict[str, Any]],
        parts: list[tuple[str, FilterOperator, Any]],
        condition: FilterCondition,
    ) -> None:
        flt = MetadataFilters(filters=[f(*p) for p in parts], condition=condition)
        v.add([TextNode(id_=f"p{i}", text="x", metadata=m, embedding=[1.0, 0.0, 0.0])
               for i, m in enumerate(rows)])  # fmt: skip
        meta = {f"p{i}": m for i, m in enumerate(rows)}
        expected = sorted(i for i in meta if build_metadata_filter_fn(meta.__getitem__, flt)(i))
        got = sorted(i for i in ids(v, filters=flt) if i in meta)
        v.delete_nodes(list(meta))
        assert got == expected, (to_filter(flt), rows)

    run()
