"""A Merkle tree over the chain's links, as RFC 9162 (Certificate Transparency v2) defines it.

The leaves are the chain's links, one per position, in position order: whatever format a link is
in, its 32 bytes are the leaf. The tree's shape is the RFC's for any number of leaves ``n``: the
left subtree holds the largest power of two smaller than ``n``, the right one the rest.

Nothing here holds the tree. :func:`tree_root` folds a stream of leaves with one hash per level
(the O(log n) stack of a binary counter), and :class:`TreeBuilder` does the same while it keeps
the few hashes a proof needs: the nodes named in advance (a consistency proof's, from
:func:`consistency_ranges`), the root at chosen sizes, and the inclusion path of leaves marked as
they stream past (their positions are known, their leaf indices only once they are counted).
What it keeps grows with what was asked for, never with the history.

The verification functions are those of :mod:`kam_domain.audit.verifier`, the stand-alone file
an outsider runs: the library checks its own proofs with the very code it hands out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable

from kam_domain.audit.verifier import (
    EMPTY_ROOT,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Range",
    "TreeBuilder",
    "consistency_ranges",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "split",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

#: The leaves ``[start, end)`` a node of the tree covers (leaf indices, from 0).
Range = tuple[int, int]


def split(size: int) -> int:
    """The size of the left subtree of a tree of ``size`` (>= 2) leaves: the largest power of
    two smaller than ``size`` (RFC 9162 section 2.1.1)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The nodes of an inclusion proof of leaf ``index`` in the tree of ``size`` leaves, from
    the leaf's sibling up (RFC 9162 section 2.1.3.1, PATH(m, D[n]))."""
    if not 0 <= index < size:
        msg = f"leaf index {index} is not in a tree of {size} leaves"
        raise ValueError(msg)
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return path[::-1]


def consistency_ranges(first: int, size: int) -> list[Range]:
    """The nodes of a consistency proof from the tree of ``first`` leaves to the tree of
    ``size`` leaves (RFC 9162 section 2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true));
    empty when ``first`` is 0 or ``size``."""
    if not 0 <= first <= size:
        msg = f"a tree of {first} leaves is not a prefix of a tree of {size}"
        raise ValueError(msg)
    if first == 0:
        return []
    nodes: list[Range] = []
    start, end, whole = 0, size, True
    m = first
    while m != end - start:
        k = split(end - start)
        if m <= k:
            nodes.append((start + k, end))
            end = start + k
        else:
            nodes.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        nodes.append((start, end))
    return nodes[::-1]


def tree_root(leaves: Iterable[bytes]) -> tuple[int, bytes]:
    """The number of leaves and the tree's root, folding the stream with one hash per level."""
    sha256 = hashlib.sha256
    stack: list[bytes] = []
    count = 0
    for leaf in leaves:
        digest = sha256(b"\x00" + leaf).digest()
        count += 1
        carry = count
        # Adding a leaf is adding one to a binary counter: each trailing zero is a merge.
        while not carry & 1:
            digest = sha256(b"\x01" + stack.pop() + digest).digest()
            carry >>= 1
        stack.append(digest)
    if not stack:
        return 0, EMPTY_ROOT
    digest = stack.pop()
    while stack:
        digest = sha256(b"\x01" + stack.pop() + digest).digest()
    return count, digest


class _Node:
    """A complete subtree on the stack: where it starts, how many leaves, its hash, and the
    marked leaves below it whose inclusion paths still grow."""

    __slots__ = ("digest", "marks", "size", "start")

    def __init__(self, start: int, size: int, digest: bytes, marks: list[int] | None) -> None:
        self.start, self.size, self.digest, self.marks = start, size, digest, marks


class TreeBuilder:
    """Leaves in, one at a time; out: the root, chosen nodes, roots at chosen sizes, and the
    inclusion paths of marked leaves. Memory: one node per level, plus what was asked for."""

    def __init__(self, *, nodes: Collection[Range] = (), sizes: Collection[int] = ()) -> None:
        self._stack: list[_Node] = []
        self._wanted = set(nodes)
        self._nodes: dict[Range, bytes] = {}
        self._sizes = set(sizes)
        self._roots: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in self._sizes else {}
        self._paths: dict[int, list[bytes]] = {}
        self.size = 0

    def add(self, leaf: bytes, *, mark: bool = False) -> int:
        """Append ``leaf``; with ``mark``, keep its inclusion path. Its leaf index."""
        index = self.size
        marks = None
        if mark:
            self._paths[index] = []
            marks = [index]
        node = _Node(index, 1, leaf_hash(leaf), marks)
        self.size += 1
        wanted = self._wanted
        if wanted:
            self._keep(node, index + 1)
        stack = self._stack
        while stack and stack[-1].size == node.size:
            node = self._merge(stack.pop(), node)
            if wanted:
                self._keep(node, node.start + node.size)
        stack.append(node)
        if self.size in self._sizes:
            self._roots[self.size] = self._fold()
        return index

    def finish(self) -> bytes:
        """The root of the tree of every leaf added; completes the right edge's nodes and the
        marked leaves' paths. Add nothing after it."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        node = stack[-1]
        for left in reversed(stack[:-1]):
            node = self._merge(left, node)
            self._keep(node, self.size)
        self._stack = [node]
        return node.digest

    def node(self, start: int, end: int) -> bytes:
        """The hash of the node over leaves ``[start, end)``, named when this was built."""
        return self._nodes[(start, end)]

    def root_at(self, size: int) -> bytes:
        """The root of the tree of the first ``size`` leaves, named when this was built."""
        return self._roots[size]

    def path(self, index: int) -> list[bytes]:
        """The inclusion path of marked leaf ``index`` in the tree of every leaf (after
        :meth:`finish`), from the leaf's sibling up."""
        return self._paths[index]

    def _merge(self, left: _Node, right: _Node) -> _Node:
        if left.marks is None and right.marks is None:
            digest = node_hash(left.digest, right.digest)
            return _Node(left.start, left.size + right.size, digest, None)
        if left.marks:
            for index in left.marks:
                self._paths[index].append(right.digest)
        if right.marks:
            for index in right.marks:
                self._paths[index].append(left.digest)
        marks = left.marks
        if right.marks:
            marks = [*marks, *right.marks] if marks else right.marks
        return _Node(
            left.start, left.size + right.size, node_hash(left.digest, right.digest), marks
        )

    def _keep(self, node: _Node, end: int) -> None:
        if (node.start, end) in self._wanted:
            self._nodes[(node.start, end)] = node.digest

    def _fold(self) -> bytes:
        stack = self._stack
        digest = stack[-1].digest
        for left in reversed(stack[:-1]):
            digest = node_hash(left.digest, digest)
        return digest
