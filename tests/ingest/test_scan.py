"""Finding image files: extensions, hidden files, excludes, symlink loops, the data home."""

from __future__ import annotations

import os

from vlagent.ingest.scan import FileFilter, iter_files


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return str(path)


def test_walk_filters_and_follows_symlinked_folders_once(tmp_path, settings, home):
    root = tmp_path / "pics"
    want = [touch(root / "a.PNG"), touch(root / "sub" / "b.jpg"), touch(root / "sub" / "deeper" / "c.webp")]
    touch(root / "notes.txt")
    touch(root / ".hidden.png")
    touch(root / ".git" / "d.png")
    touch(root / "node_modules" / "e.png")
    touch(root / "download.png.part")
    touch(root / "x.tmp")
    os.symlink(root, root / "sub" / "loop")  # a cycle
    os.symlink(tmp_path / "elsewhere", root / "broken_link_dir")
    got = list(iter_files([root], FileFilter.from_settings(settings, home)))
    assert sorted(got) == sorted(want)


def test_explicit_files_keep_any_extension_and_missing_paths_are_reported(tmp_path, settings):
    f = touch(tmp_path / "scan.dat")
    errors = []
    got = list(iter_files([f, tmp_path / "missing.png"], FileFilter.from_settings(settings),
                          on_error=lambda p, e: errors.append((p, str(e)))))
    assert got == [f]
    assert errors == [(str(tmp_path / "missing.png"), f"{tmp_path / 'missing.png'}: no such file or folder")]


def test_excluded_folders_and_the_data_home_are_never_listed(tmp_path, settings, home):
    keep = touch(tmp_path / "pics" / "keep.png")
    touch(tmp_path / "pics" / "private" / "secret.png")
    touch(home.thumbnails / "ab" / "ab12.jpg")  # the home sits inside tmp_path in the tests
    settings.set("privacy.excluded_folders", [str(tmp_path / "pics" / "private")])
    errors = []
    flt = FileFilter.from_settings(settings, home)
    assert list(iter_files([tmp_path], flt)) == [keep]
    assert list(iter_files([tmp_path / "pics" / "private" / "secret.png", home.thumbnails], flt,
                           on_error=lambda p, e: errors.append(p))) == []
    assert errors == [str(tmp_path / "pics" / "private" / "secret.png"), str(home.thumbnails)]
    capture = touch(home.captures / "screenshot" / "cap.png")  # the data home's images are fine
    assert list(iter_files([home.root], flt)) == [capture]


def test_every_entry_a_walk_passes_over_is_reported_with_its_reason(tmp_path, settings, home):
    root = tmp_path / "pics"
    want = [touch(root / "a.png"), touch(root / "b.avif"), touch(root / "c.webp")]
    touch(root / "notes.txt")
    touch(root / "noext")
    touch(root / ".hidden.png")
    touch(root / ".git" / "d.png")  # a hidden folder: reported once, not entered
    touch(root / "node_modules" / "e.png")
    touch(root / "download.png.part")
    skipped = []
    got = list(iter_files([root], FileFilter.from_settings(settings, home),
                          on_skip=lambda p, why: skipped.append((os.path.basename(p), why))))
    assert sorted(got) == sorted(want)
    assert sorted(skipped) == [(".git", "hidden"), (".hidden.png", "hidden"), ("download.png.part", "excluded"),
                               ("node_modules", "excluded"), ("noext", "not_image"), ("notes.txt", "not_image")]


def test_the_default_extensions_are_what_pillow_opens_here(settings, home):
    """No ingest.extensions set: the types Pillow (and its installed plugins) can open, AVIF
    included where this Pillow reads it; an extension set by the user replaces the list."""
    from PIL import Image

    from vlagent.imaging.formats import supported_extensions, supported_formats

    flt = FileFilter.from_settings(settings, home)
    assert flt.extensions == supported_extensions()
    assert {"png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"} <= flt.extensions
    Image.init()
    assert ("avif" in flt.extensions) == ("AVIF" in Image.OPEN)
    assert not {"mpg", "eps", "ps", "h5", "grib", "wmf"} & flt.extensions  # no decoder here, or not pictures
    assert all(fmt in Image.OPEN for fmt in supported_formats())
    settings.set("ingest.extensions", ["PNG", ".jpg"])
    assert FileFilter.from_settings(settings, home).extensions == {"png", "jpg"}
