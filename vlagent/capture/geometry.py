"""Mapping between what the overlay shows (Qt's logical coordinates, per screen) and the
captured image (physical pixels), so the crop a user selects is exactly the pixels they saw
on every monitor, whatever its scaling."""

from __future__ import annotations

from vlagent.capture.base import Rect, Shot


def screen_regions(shot: Shot, screens: list[Rect]) -> list[Rect]:
    """For each screen (its rectangle in the OS's physical coordinates), the part of the
    Shot's image that shows it.

    A handler that reported monitors is matched by position (Qt and mss agree on X11 and
    Windows), then by overlap, then by order. A handler that reported none (the portal,
    grim) gave one picture of the whole desktop: each screen's share of it is proportional
    to its share of the screens' bounding box.
    """
    if not screens:
        return []
    if shot.monitors:
        ox, oy = shot.origin
        placed = [Rect(m.rect.x + ox, m.rect.y + oy, m.rect.width, m.rect.height) for m in shot.monitors]
        out = []
        for i, screen in enumerate(screens):
            match = next((k for k, r in enumerate(placed) if r == screen), None)
            if match is None:
                overlaps = [(_area(r.intersect(screen)), k) for k, r in enumerate(placed)]
                best = max(overlaps)
                match = best[1] if best[0] > 0 else min(i, len(placed) - 1)
            out.append(shot.monitors[match].rect)
        return out
    left = min(r.x for r in screens)
    top = min(r.y for r in screens)
    width = max(r.right for r in screens) - left
    height = max(r.bottom for r in screens) - top
    sx, sy = shot.image.width / width, shot.image.height / height
    return [_scaled(Rect(r.x - left, r.y - top, r.width, r.height), sx, sy) for r in screens]


def to_physical(x0: float, y0: float, x1: float, y1: float, logical_size: tuple[float, float],
                region: Rect) -> Rect:
    """A selection between two corner points in a window's logical coordinates (floats: Qt
    reports sub-pixel positions on scaled screens) → the same pixels in the Shot's image.
    ``region`` is the part of the image the window shows, stretched over ``logical_size``."""
    sx, sy = region.width / logical_size[0], region.height / logical_size[1]
    left, right = sorted((x0, x1))
    top, bottom = sorted((y0, y1))
    px0 = _clamp(round(left * sx), 0, region.width)
    px1 = _clamp(round(right * sx), 0, region.width)
    py0 = _clamp(round(top * sy), 0, region.height)
    py1 = _clamp(round(bottom * sy), 0, region.height)
    return Rect(region.x + px0, region.y + py0, px1 - px0, py1 - py0)


def _scaled(r: Rect, sx: float, sy: float) -> Rect:
    x0, y0 = round(r.x * sx), round(r.y * sy)
    return Rect(x0, y0, round(r.right * sx) - x0, round(r.bottom * sy) - y0)


def _area(r: Rect | None) -> int:
    return 0 if r is None else r.width * r.height


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))
