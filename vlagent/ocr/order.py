"""Reading order for OCR lines, aware of columns.

Lines are first chained into *blocks*: a line and the line right below it, overlapping it
horizontally and close enough to be the next line of the same paragraph, belong together
(each line links to at most one line below and one above, so a heading spanning two columns
cannot glue them together). Blocks are then ordered by recursive XY-cut: split into bands
where a horizontal gap runs across the whole region, top to bottom; a band split by a
vertical gap is read column by column, left to right. So a two-column article reads down
the left column, then the right one, a sidebar is read before the page beside it, and
chat bubbles that alternate left and right stay in time order (they never share a band).
"""

from __future__ import annotations

from dataclasses import dataclass

from vlagent.ocr.base import OcrLine

LINK_GAP = 1.2  # max vertical gap between chained lines, in line heights
LINK_HEIGHT_RATIO = 1.6  # lines of very different heights (heading vs body) don't chain


@dataclass
class _Box:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    @classmethod
    def of(cls, line: OcrLine) -> _Box:
        return cls(*line.bounds)

    @classmethod
    def around(cls, boxes: list[_Box]) -> _Box:
        return cls(min(b.left for b in boxes), min(b.top for b in boxes),
                   max(b.right for b in boxes), max(b.bottom for b in boxes))


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    if len(lines) < 2:
        return list(lines)
    boxes = [_Box.of(line) for line in lines]
    blocks = _chain_blocks(boxes)
    slack = 0.2 * sorted(b.height for b in boxes)[len(boxes) // 2]
    ordered = _xy_cut(blocks, [_Box.around([boxes[i] for i in blk]) for blk in blocks], slack)
    return [lines[i] for blk in ordered for i in blk]


def _chain_blocks(boxes: list[_Box]) -> list[list[int]]:
    """Indices of lines grouped into vertical chains, each chain top to bottom."""
    n = len(boxes)
    by_top = sorted(range(n), key=lambda i: boxes[i].top)
    below: dict[int, int] = {}
    above: dict[int, int] = {}
    for pos, i in enumerate(by_top):
        a = boxes[i]
        best = None
        for j in by_top[pos + 1:]:
            b = boxes[j]
            gap = b.top - a.bottom
            if gap > LINK_GAP * LINK_HEIGHT_RATIO * a.height:
                break  # sorted by top: every later line is farther down
            if gap > LINK_GAP * max(a.height, b.height) or b.top < a.top + 0.5 * a.height:
                continue  # too far below, or on the same row
            if min(a.right, b.right) - max(a.left, b.left) <= 0:
                continue
            if max(a.height, b.height) > LINK_HEIGHT_RATIO * min(a.height, b.height):
                continue
            key = (gap, abs(a.left - b.left))
            if best is None or key < best[0]:
                best = (key, j)
        if best is not None:
            j = best[1]
            # Keep only mutual nearest links: j's closest line above must be i.
            prev = above.get(j)
            if prev is None or _gap(boxes[i], boxes[j]) < _gap(boxes[prev], boxes[j]):
                if prev is not None:
                    below.pop(prev, None)
                above[j] = i
                below[i] = j
    blocks = []
    for i in by_top:
        if i in above:
            continue
        chain = [i]
        while chain[-1] in below:
            chain.append(below[chain[-1]])
        blocks.append(chain)
    return blocks


def _gap(a: _Box, b: _Box) -> tuple[float, float]:
    return (b.top - a.bottom, abs(a.left - b.left))


def _xy_cut(blocks: list[list[int]], boxes: list[_Box], slack: float) -> list[list[int]]:
    if len(blocks) < 2:
        return blocks
    for lo, hi in (("top", "bottom"), ("left", "right")):  # bands first, then columns
        groups = _split(boxes, lo, hi, slack)
        if len(groups) > 1:
            return [blk for g in groups for blk in _xy_cut([blocks[k] for k in g], [boxes[k] for k in g], slack)]
    order = sorted(range(len(blocks)), key=lambda k: (boxes[k].top, boxes[k].left))
    return [blocks[k] for k in order]


def _split(boxes: list[_Box], lo: str, hi: str, slack: float) -> list[list[int]]:
    """Group boxes whose [lo, hi] intervals overlap (by more than ``slack``), in order."""
    order = sorted(range(len(boxes)), key=lambda k: getattr(boxes[k], lo))
    groups: list[list[int]] = []
    end = None
    for k in order:
        start = getattr(boxes[k], lo)
        if end is None or start >= end - slack:
            groups.append([k])
            end = getattr(boxes[k], hi)
        else:
            groups[-1].append(k)
            end = max(end, getattr(boxes[k], hi))
    return groups
