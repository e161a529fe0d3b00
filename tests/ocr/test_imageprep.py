import numpy as np
import pytest
from PIL import Image

from vlagent.ocr.imageprep import (
    DetPlan,
    Tile,
    brightness_range,
    busy_area,
    crop_line,
    plan_detection,
    quiet_rows,
    split_plan,
    stretch_contrast,
    to_bgr,
)

PLAN = dict(max_pixels=1280 * 720, min_scale=0.5, small_side=640, small_upscale=2.0)


def test_1080p_screenshot_is_scaled_to_the_budget_in_one_piece():
    plan = plan_detection(1920, 1080, **PLAN)
    assert plan.scale == pytest.approx(2 / 3, abs=1e-3)
    assert len(plan.tiles) == 1


def test_small_images_are_enlarged_and_mid_sized_ones_left_alone():
    assert plan_detection(172, 22, **PLAN).scale == 2.0
    assert plan_detection(800, 600, **PLAN).scale == 1.0


@pytest.mark.parametrize("w,h", [(1080, 20000), (3840, 2160), (1920, 9000)])
def test_tall_images_are_cut_into_overlapping_bands_that_own_every_row_once(w, h):
    plan = plan_detection(w, h, **PLAN)
    assert plan.scale == 0.5 and len(plan.tiles) > 1
    assert plan.tiles[0].y0 == 0 and plan.tiles[-1].y1 == h
    for a, b in zip(plan.tiles, plan.tiles[1:]):
        assert b.y0 <= a.y1 - 160  # overlap: a line cut by one band is whole in the next
        assert a.keep1 == b.keep0  # ownership is a partition of the image height
        assert a.y0 + 80 <= a.keep1 <= a.y1 - 80 or a is plan.tiles[0]
    assert plan.tiles[0].keep0 == 0 and plan.tiles[-1].keep1 == h
    for t in plan.tiles:  # each band within the detector's pixel budget
        assert (t.y1 - t.y0) * w * plan.scale ** 2 <= PLAN["max_pixels"] * 1.01


def test_very_wide_short_image_is_one_band():
    plan = plan_detection(20000, 300, **PLAN)
    assert len(plan.tiles) == 1 and plan.scale == 0.5


def test_to_bgr_swaps_channels_and_flattens_transparency_onto_white():
    rgb = Image.new("RGB", (4, 4), (255, 0, 0))
    assert to_bgr(rgb)[0, 0].tolist() == [0, 0, 255]
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert to_bgr(clear)[0, 0].tolist() == [255, 255, 255]
    assert to_bgr(Image.new("L", (3, 2), 7)).shape == (2, 3, 3)


def test_stretch_contrast_widens_a_narrow_brightness_range():
    arr = np.full((50, 200, 3), 200, np.uint8)
    arr[20:30, 50:150] = 188
    arr[0, :5] = 0  # a few stray pixels don't count as contrast
    gray = arr[:, :, 0]
    assert brightness_range(gray) == (188, 200)
    out = stretch_contrast(gray, *brightness_range(gray))
    assert brightness_range(out) == (0, 255)
    assert out[0, 0] == 0  # darker than the range stays dark
    assert out[25, 100] < 10 and out[5, 5] > 245


def test_crop_line_straightens_pads_with_its_own_edges_and_turns_vertical_text():
    arr = np.zeros((100, 300, 3), np.uint8)
    arr[40:60, 100:200] = 255
    box = np.array([[100, 40], [200, 40], [200, 60], [100, 60]], np.float32)
    crop = crop_line(arr, box, 0.0)
    assert crop.shape[:2] == (20, 100) and crop.min() == 255
    padded = crop_line(arr, box, 0.25)
    assert padded.shape[:2] == (30, 100) and padded.min() == 255  # no dark neighbourhood pulled in
    tall = crop_line(arr, np.array([[0, 0], [10, 0], [10, 60], [0, 60]], np.float32), 0.0)
    assert tall.shape[:2] == (10, 60)


def striped_page(width=1200, height=1000, gap_at=None, sidebar=True):
    """A grey image: text-like rows (noise) on a white page with a grey sidebar, and one
    blank gap of 20 rows at ``gap_at``."""
    rng = np.random.default_rng(0)
    arr = np.full((height, width), 255, np.uint8)
    if sidebar:
        arr[:, :200] = 230  # a panel border is vertical: it must not stop rows being quiet
    for y in range(0, height, 24):
        arr[y:y + 20, 220:1100] = rng.integers(0, 255, (min(20, height - y), 880), dtype=np.uint8)
    if gap_at is not None:
        arr[gap_at - 10:gap_at + 10, 200:] = 255
    return arr


def test_quiet_rows_are_the_gaps_between_lines_even_beside_a_sidebar():
    quiet = quiet_rows(striped_page(gap_at=500))
    assert quiet[495:505].all()
    assert not quiet[230:236].any()  # inside a line of "text"
    assert quiet[21:24].all()  # the 4-row gap between lines: rows 2–4 repeat row 1


def test_split_plan_cuts_in_a_gap_between_lines_with_a_small_overlap():
    page = striped_page(gap_at=470)
    plan = split_plan(DetPlan(0.6, [Tile(0, 1000, 0.0, 1000.0)]), 2, quiet_rows(page))
    assert plan.scale == 0.6 and len(plan.tiles) == 2
    a, b = plan.tiles
    assert a.keep1 == b.keep0 and 460 <= a.keep1 <= 480  # through the 20-row gap, near the middle
    assert (a.y0, a.keep0, b.y1, b.keep1) == (0, 0.0, 1000, 1000.0)
    assert a.y1 - b.y0 == 32  # 16 rows shared each way


def test_split_plan_without_a_gap_cuts_in_the_middle_with_the_full_overlap():
    page = striped_page()
    page[:, 220:1100] = np.random.default_rng(1).integers(0, 255, (1000, 880), dtype=np.uint8)
    a, b = split_plan(DetPlan(1.0, [Tile(0, 1000, 0.0, 1000.0)]), 2, quiet_rows(page)).tiles
    assert a.keep1 == b.keep0 == 500 and (b.y0, a.y1) == (420, 580)


def test_split_plan_leaves_short_images_and_banded_plans_alone():
    one = DetPlan(1.0, [Tile(0, 500, 0.0, 500.0)])
    assert split_plan(one, 2, np.ones(500, bool)) == one  # each part would be under 320 rows
    assert split_plan(one, 1, np.ones(500, bool)) == one
    banded = plan_detection(1080, 20000, **PLAN)
    assert split_plan(banded, 2, np.ones(20000, bool)) == banded
    three = split_plan(DetPlan(1.0, [Tile(0, 1000, 0.0, 1000.0)]), 4, np.ones(1000, bool))
    assert len(three.tiles) == 3  # 1000 rows make at most three parts of 320


def test_busy_area_is_where_something_changes_with_a_margin_around_it():
    ruled = np.full((300, 400), 250, np.uint8)
    ruled[100, :] = 10  # a horizontal rule from edge to edge: nothing to read
    assert busy_area(ruled) is None
    page = np.full((600, 1000), 250, np.uint8)
    page[:, :150] = 230  # a sidebar: its border changes the same way all along
    assert busy_area(page) is None
    page[200:220, 300:500] = np.random.default_rng(2).integers(0, 255, (20, 200), dtype=np.uint8)
    assert busy_area(page, margin=48) == (251, 151, 549, 269)  # ink at 300–499 × 200–219
    assert busy_area(page, margin=500) == (0, 0, 1000, 600)
    assert busy_area(np.full((40, 40), 9, np.uint8)) is None and busy_area(np.zeros((1, 5), np.uint8)) is None
