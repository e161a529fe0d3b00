import numpy as np
import pytest
from PIL import Image

from vlagent.ocr.imageprep import contrast_spread, crop_line, plan_detection, stretch_contrast, to_bgr

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
    assert contrast_spread(arr) == pytest.approx(12, abs=1)
    out = stretch_contrast(arr)
    assert contrast_spread(out) > 250
    assert out[25, 100, 0] < 10 and out[5, 5, 0] > 245


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
