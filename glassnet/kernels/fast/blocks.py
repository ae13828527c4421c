"""Fixed blocks: how a kernel cuts its work so that the result does not depend on the threads.

A float32 sum depends on the order of its additions, and a matrix product's rounding on the
shapes it is called with (OpenBLAS picks other inner kernels for other row counts: a row of
A @ B can differ in its last bit between a 16-row and a 17-row product). A convolution's weight
gradient dW = sum over every sample n and output position o of dY[n, o] x patch(n, o) would
therefore change its last bits with the way the batch was shared among threads, and a training
run would then depend on the thread count and on the machine's load. PyTorch does not promise
otherwise; glassnet does, with two rules:

1. Fixed blocks. A kernel cuts its rows (patch rows (n, o), or samples) into blocks whose size
   follows from the problem's shape alone (row_block, sample_block), never from the number of
   threads, and evaluates each block the same way whoever runs it: the same products of the
   same sizes, starting at the block's own start. Threads are handed whole blocks.
2. A fixed order of the partial sums. The blocks' partial sums are added along one fixed binary
   tree over the blocks: node [lo, hi) = node [lo, mid) + node [mid, hi), mid = (lo + hi) // 2,
   leaves are single blocks. A thread given blocks [a, b) adds up the largest nodes inside
   [a, b) itself (so it holds a few partials at a time, not one per block; partial_sums) and
   the caller adds those nodes along the same tree (tree_total). Every addition is therefore the
   same at 1, 2, 3 or 16 threads, and in the one thread of the busy-CPU fallback.

The tree is pairwise summation as well, so it adds rounding error ~ log2(blocks) instead of
~ blocks, the same way NumPy sums a contiguous array.
"""

from __future__ import annotations

TARGET_BLOCKS = 64  # a batch is cut into about this many blocks, enough to share evenly among 16 threads
MIN_ROWS = 256  # but no block has fewer patch rows than this: smaller GEMMs run well below the BLAS's peak


def row_block(total_rows: int, chunk_rows: int) -> int:
    """Rows per block when the total_rows patch rows of a batch are cut into blocks: about
    total_rows / TARGET_BLOCKS, at least MIN_ROWS, at most one chunk (so a block is one GEMM)."""
    return max(min(-(-total_rows // TARGET_BLOCKS), chunk_rows), min(MIN_ROWS, chunk_rows), 1)


def sample_block(n: int, positions: int) -> int:
    """Samples per block when a batch of n samples of `positions` rows each is cut into blocks
    of whole samples: about n / TARGET_BLOCKS, with at least MIN_ROWS rows when the samples are small."""
    return max(-(-n // TARGET_BLOCKS), -(-MIN_ROWS // max(positions, 1)), 1)


def count(total: int, size: int) -> int:
    """Blocks of `size` in `total` (the last one may be shorter)."""
    return -(-total // size)


def _nodes_inside(a: int, b: int, lo: int, hi: int):
    """The largest nodes of the subtree [lo, hi) that lie inside [a, b), left to right."""
    if hi <= a or b <= lo:
        return
    if a <= lo and hi <= b:
        yield lo, hi
        return
    mid = (lo + hi) // 2
    yield from _nodes_inside(a, b, lo, mid)
    yield from _nodes_inside(a, b, mid, hi)


def _add(left: list, right: list) -> list:
    """left += right, array by array (left's arrays are owned by the sum being built)."""
    for x, y in zip(left, right):
        x += y
    return left


def _subtree_sum(lo: int, hi: int, leaf) -> list:
    if hi - lo == 1:
        return list(leaf(lo))
    mid = (lo + hi) // 2
    return _add(_subtree_sum(lo, mid, leaf), _subtree_sum(mid, hi, leaf))


def partial_sums(a: int, b: int, n: int, leaf) -> dict:
    """{(lo, hi): sums of leaf(lo..hi-1)} for the largest nodes of the tree over n blocks that lie
    inside [a, b). leaf(i) returns a sequence of fresh arrays (e.g. (dw_i, db_i)), summed
    array by array."""
    return {node: _subtree_sum(*node, leaf) for node in _nodes_inside(a, b, 0, n)}


def tree_total(n: int, nodes: dict) -> list:
    """The sum of all n blocks, from the nodes that the workers' partial_sums returned (together
    they cover [0, n)), added along the same tree."""
    def total(lo, hi):
        if (lo, hi) in nodes:
            return nodes[(lo, hi)]
        mid = (lo + hi) // 2
        return _add(total(lo, mid), total(mid, hi))
    return total(0, n)


def blocked_sum(n: int, leaf, split) -> list:
    """sum_{i < n} leaf(i) along the fixed tree, the blocks shared among threads by
    split(n, work) (threads.split_batch with the caller's choice of worth_it)."""
    nodes = {}
    for part in split(n, lambda a, b: partial_sums(a, b, n, leaf)):
        nodes.update(part)
    return tree_total(n, nodes)


__all__ = ["row_block", "sample_block", "count", "partial_sums", "tree_total", "blocked_sum"]
