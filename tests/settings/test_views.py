"""Typed settings views (``settings.view.<section>.<name>``), generated from the declaration."""

import subprocess
import sys
import textwrap
import typing

import pytest

from vlagent.settings import SETTINGS, Settings, viewgen
from vlagent.settings.viewbase import SectionView, check_views, view_fields

PYTHON_TYPES = {"str": str, "secret": str, "path": str, "int": int, "float": float, "bool": bool, "list": list,
                "choice": str}


@pytest.fixture
def s(tmp_path):
    return Settings.load(tmp_path / "config.toml")


def test_generated_views_are_up_to_date():
    assert viewgen.TARGET.read_text(encoding="utf-8") == viewgen.render(), (
        "vlagent/settings/views.py is stale: run python -m vlagent.settings.viewgen --write")
    assert viewgen.main(["--check"]) == 0


def test_every_declared_key_is_reachable_with_its_declared_type(s):
    from vlagent.settings import views

    for setting in SETTINGS:
        section = getattr(s.view, setting.section)
        value = getattr(section, setting.name)
        assert value == s.get(setting.key) == setting.default, setting.key
        assert isinstance(value, PYTHON_TYPES[setting.type]), setting.key
        if setting.type == "list":
            assert all(isinstance(v, str) for v in value)
        prop = getattr(type(section), setting.name)
        annotation = typing.get_type_hints(prop.fget, vars(views))["return"]
        if setting.type == "choice":
            assert typing.get_origin(annotation) is typing.Literal
            assert typing.get_args(annotation) == setting.choices, setting.key
    assert set(view_fields(views.SECTION_VIEWS)) == {st.key for st in SETTINGS}


def test_views_read_live_values(s, tmp_path):
    v = s.view.vlm
    assert v.batch_size == 4 and s.view is s.view
    s.set("vlm.batch_size", "8")
    assert v.batch_size == 8
    s.override("vlm.batch_size", 2)  # a CLI flag wins over the file …
    assert v.batch_size == 2
    s.set("vlm.batch_size", 16)  # … until the value is set again
    assert v.batch_size == 16
    s.reset("vlm.batch_size")
    assert v.batch_size == 4
    s.override("general.language", "zh")
    assert s.view.general.language == "zh"


def test_views_follow_reload_and_subscribers_see_the_new_value(s):
    seen = []
    s.subscribe(lambda key, value: seen.append((key, value, s.view.ocr.enabled, s.view.watch.folders)))
    s.path.write_text("[ocr]\nenabled = false\n[watch]\nfolders = ['/pics']\n")
    assert sorted(s.reload()) == ["ocr.enabled", "watch.folders"]
    assert s.view.ocr.enabled is False and s.view.watch.folders == ["/pics"]
    assert all(entry[2:] == (False, ["/pics"]) for entry in seen) and len(seen) == 2
    s.override("ocr.enabled", True)  # overrides still win over the reloaded file
    assert s.view.ocr.enabled is True and s.reload() == []


def test_values_are_copies(s):
    s.view.watch.folders.append("/tmp/x")
    assert s.view.watch.folders == [] and s.get("watch.folders") == []


def test_misspelt_names_raise_attribute_error(s):
    with pytest.raises(AttributeError):
        s.view.vlm.batchsize  # noqa: B018
    with pytest.raises(AttributeError):
        s.view.vlms  # noqa: B018
    with pytest.raises(AttributeError):  # read-only: a value is changed through Settings.set
        s.view.vlm.batch_size = 3
    with pytest.raises(AttributeError):
        s.view.vlm = None
    with pytest.raises(AttributeError):  # no instance dict to hide typos in
        s.view.vlm.batchsize = 3


def test_section_view_as_dict_and_repr(s):
    assert s.view.capture.as_dict() == s.section("capture")
    assert "hotkey" in repr(s.view.capture)


def test_import_check_refuses_views_that_do_not_match_the_declaration():
    from vlagent.settings import views

    check_views(views.SECTION_VIEWS, views.FIELDS)  # the checked-in file passes
    stale_type = dict(views.FIELDS, **{"vlm.batch_size": ("float", ())})
    with pytest.raises(ImportError, match=r"vlm\.batch_size: declared as \('int', \(\)\)"):
        check_views(views.SECTION_VIEWS, stale_type)
    missing = {k: v for k, v in views.FIELDS.items() if k != "api.port"}
    with pytest.raises(ImportError, match=r"api\.port: a view field with no generated signature"):
        check_views(views.SECTION_VIEWS, missing)

    class VlmExtra(SectionView):
        section = "vlm"

        @property
        def batchsize(self) -> int:  # a field the declaration does not have
            return 0

    with pytest.raises(ImportError, match=r"(?s)viewgen --write.*vlm\.batchsize: .*not a declared setting"):
        check_views([*views.SECTION_VIEWS, VlmExtra], dict(views.FIELDS, **{"vlm.batchsize": ("int", ())}))
    with pytest.raises(ImportError, match=r"vlm\.batch_size: a declared setting with no view field"):
        check_views([c for c in views.SECTION_VIEWS if c.section != "vlm"],
                    {k: v for k, v in views.FIELDS.items() if not k.startswith("vlm.")})


def test_viewgen_regenerates_without_importing_the_views(tmp_path):
    """A stale views.py refuses to import, so the generator must not need it."""
    code = textwrap.dedent("""
        import sys
        from vlagent.settings import viewgen
        viewgen.render()
        assert "vlagent.settings.views" not in sys.modules
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_type_checker_catches_misspelt_names_and_wrong_types(tmp_path):
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent("""
        from vlagent.settings import Settings

        def f(s: Settings) -> None:
            ok: int = s.view.vlm.batch_size
            lang: str = s.view.general.language
            bad = s.view.vlm.batchsize
            wrong: str = s.view.ocr.enabled
            reveal_type(s.view.vlm.backend)
    """))
    out, _, rc = api.run(["--strict", "--follow-imports=silent", "--no-incremental",
                          "--cache-dir", str(tmp_path / "cache"), str(snippet)])
    assert rc == 1
    assert '"VlmView" has no attribute "batchsize"' in out
    assert 'Incompatible types in assignment (expression has type "bool", variable has type "str")' in out
    assert "Literal['transformers'] | Literal['openai']" in out
    assert out.count("error:") == 2, out
