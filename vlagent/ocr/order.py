"""Reading order for OCR lines: top to bottom, left to right within a visual row."""

from __future__ import annotations

from vlagent.ocr.base import OcrLine


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    if not lines:
        return []

    def top(line):
        return min(p[1] for p in line.box)

    def bottom(line):
        return max(p[1] for p in line.box)

    def left(line):
        return min(p[0] for p in line.box)

    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=top):
        t, b = top(line), bottom(line)
        if rows:
            row = rows[-1]
            rt = min(top(x) for x in row)
            rb = max(bottom(x) for x in row)
            overlap = min(b, rb) - max(t, rt)
            if overlap > 0.5 * min(b - t, rb - rt):
                row.append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=left)]
