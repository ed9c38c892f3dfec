"""The Merkle tree over the chain: RFC 9162's hashes, shape and proofs, streamed."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.audit.merkle import (
    EMPTY_ROOT,
    TreeBuilder,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    split,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference leaves and their tree heads for sizes 1..8, with
# proofs from the same reference (RFC 6962's test data, which RFC 9162 keeps).
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
}


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) by the RFC's recursive definition, over the whole list."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split(len(leaves))
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def naive_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) by the RFC's recursive definition."""
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if index < k:
        return [*naive_path(index, leaves[:k]), naive_root(leaves[k:])]
    return [*naive_path(index - k, leaves[k:]), naive_root(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) by the RFC's recursive definition."""
    if m == len(leaves):
        return [] if whole else [naive_root(leaves)]
    k = split(len(leaves))
    if m <= k:
        return [*naive_subproof(m, leaves[:k], whole), naive_root(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_root(leaves[:k])]


def streamed_proofs(leaves: list[bytes], first: int, marked: set[int]) -> tuple[TreeBuilder, bytes]:
    builder = TreeBuilder(nodes=consistency_ranges(first, len(leaves)), sizes={first})
    for index, leaf in enumerate(leaves):
        builder.add(leaf, mark=index in marked)
        # One node per level at most: memory is O(log n) whatever the size.
        assert len(builder._stack) <= builder.size.bit_length()
    return builder, builder.finish()


def test_the_roots_are_the_reference_tree_heads() -> None:
    """The streamed root of the first n reference leaves is the published tree head, n 0..8."""
    assert tree_root([]) == (0, EMPTY_ROOT)
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for size in range(1, 9):
        assert tree_root(LEAVES[:size]) == (size, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_inclusion_proofs_are_the_reference_proofs(index: int, size: int) -> None:
    """A marked leaf's streamed path is the reference proof, and it verifies per RFC 9162."""
    builder, root = streamed_proofs(LEAVES[:size], 0, {index})

    assert [node.hex() for node in builder.path(index)] == INCLUSION[(index, size)]
    assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), builder.path(index), root)


@pytest.mark.parametrize(("first", "size"), sorted(CONSISTENCY))
def test_consistency_proofs_are_the_reference_proofs(first: int, size: int) -> None:
    """The streamed consistency nodes are the reference proof, and it verifies per RFC 9162."""
    builder, root = streamed_proofs(LEAVES[:size], first, set())
    proof = [builder.node(*node) for node in consistency_ranges(first, size)]

    assert [node.hex() for node in proof] == CONSISTENCY[(first, size)]
    assert verify_consistency(first, size, builder.root_at(first), root, proof)


@given(
    size=st.integers(1, 300),
    data=st.data(),
)
def test_streamed_proofs_agree_with_the_full_tree(size: int, data: st.DataObject) -> None:
    """For any size 1..300, streamed roots and proofs equal the RFC's recursive definitions,
    verify, and stop verifying when a hash, the index or a size is wrong."""
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(1, size), label="first")
    builder, root = streamed_proofs(leaves, first, {index, size - 1})
    path = builder.path(index)
    consistency = [builder.node(*node) for node in consistency_ranges(first, size)]

    assert root == naive_root(leaves) == tree_root(leaves)[1]
    assert builder.root_at(first) == naive_root(leaves[:first])
    assert path == naive_path(index, leaves)
    assert len(path) == len(inclusion_ranges(index, size)) <= size.bit_length()
    assert consistency == (naive_subproof(first, leaves, True) if first < size else [])
    assert len(consistency) <= 2 * size.bit_length()
    assert verify_inclusion(index, size, leaf_hash(leaves[index]), path, root)
    assert verify_consistency(first, size, builder.root_at(first), root, consistency)
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), path, root)
    assert not verify_inclusion(index + 1, size, leaf_hash(leaves[index]), path, root)
    if path:
        bent = [path[0][::-1], *path[1:]]
        assert not verify_inclusion(index, size, leaf_hash(leaves[index]), bent, root)
        assert not verify_inclusion(index, size, leaf_hash(leaves[index]), path[:-1], root)
    if first < size:
        other = naive_root([*leaves[: first - 1], b"rewritten"])
        assert not verify_consistency(first, size, other, root, consistency)
        assert not verify_consistency(first, size, builder.root_at(first), root, consistency[1:])


def test_equal_and_empty_trees_are_consistent_only_with_themselves() -> None:
    """A tree is a prefix of itself (same root, empty proof); the empty tree of every tree."""
    root = bytes.fromhex(ROOTS[3])

    assert verify_consistency(4, 4, root, root, [])
    assert not verify_consistency(4, 4, root, bytes.fromhex(ROOTS[4]), [])
    assert verify_consistency(0, 4, EMPTY_ROOT, root, [])
    assert not verify_consistency(5, 4, root, root, [])
