"""Search on a real SQLite index built through the real Index API (images, locations, results)."""

from __future__ import annotations

import hashlib
import time

import pytest

from vlagent.index import search as search_mod
from vlagent.index.db import connect
from vlagent.index.search import Filters, highlight, search, strip_highlight
from vlagent.index.snippets import HL_END, HL_START
from vlagent.index.store import Index, Result

DAY = 86400.0
NOW = time.time()

# name: (path, source, days ago, ocr, description)
CORPUS = {
    "dog": ("/pics/animals/dog-in-snow.png", "folder", 400,
            "图片中有一只小狗站在雪地上", "A small dog standing in the snow."),
    "cat": ("/pics/animals/cat.jpg", "folder", 300,
            "小猫追着狗跑，雪地很滑", "A kitten chasing a dog across a snowy yard."),
    "invoice": ("/docs/bills/scan-0193.png", "import", 200,
                "ACME Power Ltd\nInvoice number 2024-0193\nTotal due: 42.50 EUR\nQuestions? billing@example.com\n"
                "Pay online at https://pay.example.com/i/2024-0193", "A scanned electricity invoice."),
    "code": ("/docs/code/Screenshot 2024-05-01.png", "screenshot", 30,
             "main.cpp: C++ compile error: expected ';' before '}' token (line 42)\n"
             "Do NOT use NEAR or AND/OR in file names like a:b\n\"quoted phrase\" here",
             "A terminal window showing a C++ compiler error."),
    "japan": ("/pics/japan/tokyo.jpg", "folder", 20, "東京駅のスクリーンショット カタカナとひらがな\nＡＢＣ商事 ｶﾀｶﾅ",
              "東京駅の写真、新幹線のホーム"),
    "phone": ("/pics/phone/IMG_0001.jpg", "screenshot", 10, "iPhone 截图：微信支付 payment 成功",
              "一张手机截图，显示支付成功的页面"),
    "cafe": ("/pics/travel/paris.jpg", "folder", 5, "CAFÉ DE FLORE — naïve façade", "A café in Paris at night."),
    "korean": ("/pics/travel/seoul.jpg", "folder", 4, "한국어 텍스트 검색 서울역", "A station sign in Seoul."),
    "report": ("/work/quarterly-report-final.png", "folder", 2, "", ""),
    "python": ("/docs/code/trace.png", "screenshot", 1, "Traceback: Python 运行错误 ValueError", ""),
}


def add_image(index: Index, key: str, path: str, *, source: str = "folder", at: float | None = None,
              ocr: str = "", description: str = "", monkeypatch=None) -> int:
    """Index one image as the pipeline does: image (first seen ``at``), location, results."""
    sha = hashlib.sha256(f"{key}:{path}".encode()).hexdigest()
    if at is not None:
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: at)
            iid, _ = index.add_image(sha256=sha, width=800, height=600, format="png", bytes=1000, mtime=at,
                                     source=source)
    else:
        iid, _ = index.add_image(sha256=sha, width=800, height=600, format="png", bytes=1000, mtime=0,
                                 source=source)
    index.set_location(iid, path, size=1000, mtime=0)
    if ocr:
        index.add_result(iid, Result("ocr", ocr, "rapidocr"))
    if description:
        index.add_result(iid, Result("description", description, "qwen2.5-vl", model="Qwen2.5-VL-3B"))
    return iid


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    index = Index(connect(tmp_path_factory.mktemp("search") / "index.db"))
    ids = {}
    for key, (path, source, days, ocr, desc) in CORPUS.items():
        ids[key] = add_image(index, key, path, source=source, at=NOW - days * DAY, ocr=ocr, description=desc,
                             monkeypatch=mp)
    index.add_result(ids["invoice"], Result("answer", "The total is 42.50 EUR, due on delivery.", "qwen2.5-vl",
                                            prompt="What is the reimbursement amount?"))
    yield index, ids
    index.close()


def found(corpus, query: str, **kw) -> list[str]:
    index, ids = corpus
    by_id = {v: k for k, v in ids.items()}
    return [by_id[h.image_id] for h in search(index.conn, query, limit=50, **kw).hits]


# --- CJK -----------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("小狗", {"dog"}),  # 2 characters inside a longer run
    ("狗", {"dog", "cat"}),  # 1 character
    ("雪地", {"dog", "cat"}),
    ("雪地上", {"dog"}),  # 3+ characters: a phrase of bigrams
    ("一只小狗站在雪地上", {"dog"}),
    ("猫", {"cat"}),
    ("截图", {"phone"}),
    ("カタカナ", {"japan"}),  # katakana
    ("ひらがな", {"japan"}),  # hiragana
    ("東京駅", {"japan"}),  # kanji
    ("ｶﾀｶﾅ", {"japan"}),  # halfwidth katakana finds fullwidth
    ("ホーム", {"japan"}),  # in the description, with ー
    ("서울", {"korean"}),  # Hangul
    ("商事", {"japan"}),
])
def test_cjk_queries_of_any_length(corpus, query, expected):
    assert set(found(corpus, query)) == expected


@pytest.mark.parametrize("query", ["狗小", "站雪", "小狗雪", "京東"])
def test_cjk_characters_must_be_adjacent_and_in_order(corpus, query):
    assert search(corpus[0].conn, query).hits == []


@pytest.mark.parametrize("query, expected", [
    ("iPhone 截图", {"phone"}),
    ("iPhone截图", {"phone"}),  # split where the script changes, both parts required
    ("微信 payment", {"phone"}),
    ("Python错误", {"python"}),
    ("dog 雪地", {"dog", "cat"}),
    ("dog 小狗", {"dog"}),
    ("ＡＢＣ 商事", {"japan"}),
])
def test_mixed_chinese_and_english(corpus, query, expected):
    assert set(found(corpus, query)) == expected


# --- what users type -----------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("42.50", {"invoice"}),
    ("2024-0193", {"invoice"}),
    ("0193", {"invoice"}),
    ("billing@example.com", {"invoice"}),
    ("https://pay.example.com/i/2024-0193", {"invoice"}),
    ("C++", {"code"}),
    ('"quoted phrase"', {"code"}),
    ('"phrase quoted"', set()),
    ("(line 42)", {"code"}),
    ("42", {"invoice", "code"}),
    ("NOT", {"code"}),
    ("NEAR", {"code"}),
    ("AND", {"code"}),
    ("OR", {"code"}),
    ("a:b", {"code"}),
    ("ocr:dog", set()),
    ("names:dog", set()),
    ("NEAR(dog snow)", set()),
    ("dog*", {"dog", "cat"}),
    ("dog AND cat", set()),  # AND is a word here, and no text has it with both
    ("'; DROP TABLE images; --", set()),
    ('"unbalanced quote', set()),
    ("^dog", {"dog", "cat"}),
    ("{ocr}: dog", set()),  # not a column filter: the word "ocr" is nowhere
    ("main.cpp", {"code"}),
    ("expected ';'", {"code"}),
])
def test_fts_syntax_in_queries_is_just_text(corpus, query, expected):
    assert set(found(corpus, query)) == expected
    assert corpus[0].stats()["images"] == len(CORPUS)


@pytest.mark.parametrize("query", ["(", ")", "*", '"', '""', "-", ":", "^", "+", "()*:-\"", "...", "—", "。", "、",
                                   "   ", "\u3000"])
def test_a_query_of_only_punctuation_finds_nothing_without_error(corpus, query):
    page = search(corpus[0].conn, query)
    if query.strip():
        assert page.hits == [] and page.total == 0
    else:
        assert len(page.hits) == len(CORPUS)  # whitespace is the empty query


@pytest.mark.parametrize("query, expected", [
    ("cafe", {"cafe"}),
    ("CAFÉ", {"cafe"}),
    ("Naive", {"cafe"}),
    ("FACADE", {"cafe"}),
    ("abc", {"japan"}),
    ("ＡＢＣ", {"japan"}),
    ("INVOICE", {"invoice"}),
])
def test_case_diacritics_and_fullwidth_are_folded(corpus, query, expected):
    assert set(found(corpus, query)) == expected


def test_the_last_word_matches_as_a_prefix_while_typing(corpus):
    assert found(corpus, "invo") == ["invoice"]
    assert found(corpus, "quarter") == ["report"]
    assert found(corpus, "invo ") == []  # a space ends the word
    assert set(found(corpus, "sno")) == {"dog", "cat"}  # snow, snowy
    assert set(found(corpus, "in")) == {"cafe", "code", "dog", "korean"}  # 2 letters: the word "in" only
    assert "invoice" not in found(corpus, "in")


@pytest.mark.parametrize("typed", ["scan", "elect", "sta", "stat", "statio", "Seou", "façad", "quarterly-rep"])
def test_a_long_prefix_is_expanded_into_the_words_it_starts(corpus, monkeypatch, typed):
    """search_words turns a 4+ letter prefix into an OR of words; FTS5's own prefix merge agrees."""
    conn = corpus[0].conn
    expanded = search(conn, typed)
    monkeypatch.setattr(search_mod, "MAX_EXPANSION", 0)
    merged = search(conn, typed)
    assert expanded.hits and [h.image_id for h in expanded.hits] == [h.image_id for h in merged.hits]
    assert expanded.total == merged.total
    if len(typed) > 3 and "-" not in typed:
        assert "*" not in expanded.fts and "*" in merged.fts


def test_search_words_lists_the_long_words_of_indexed_text(corpus):
    words = {r[0] for r in corpus[0].conn.execute("SELECT word FROM search_words")}
    assert {"invoice", "electricity", "station", "seoul", "facade", "quarterly"} <= words
    assert not any(w.isdigit() or len(w) < 4 for w in words)  # 2024, 0193, "a", "the" are not needed
    assert not any("\ue000" in w for w in words)  # filter tokens are not words


def test_exclusion_and_or(corpus):
    assert set(found(corpus, "dog -kitten")) == {"dog"}
    assert set(found(corpus, "kitten OR 東京 OR seoul")) == {"cat", "japan", "korean"}
    assert set(found(corpus, "-kitten")) == {"cat"}  # nothing else searched: read as a word


def test_answers_and_file_names_are_searched(corpus):
    assert found(corpus, "reimbursement") == ["invoice"]  # the question of an answer
    assert found(corpus, "delivery") == ["invoice"]  # its answer
    assert found(corpus, "quarterly report") == ["report"]  # only in the file name
    assert found(corpus, "seoul.jpg") == ["korean"]


def test_relaxed_search_when_nothing_matches_exactly(corpus):
    conn = corpus[0].conn
    assert search(conn, "雪地上的小狗").hits == []  # the text says 小狗站在雪地上
    page = search(conn, "雪地上的小狗", relax=True)
    assert page.relaxed
    assert page.hits[0].image_id == corpus[1]["dog"]  # most of the bigrams
    assert not search(conn, "小狗", relax=True).relaxed
    assert search(conn, "zebra", relax=True).hits == []  # one word: nothing to relax
    assert search(conn, '"phrase quoted"', relax=True).hits == []  # a quoted phrase is meant exactly


# --- snippets -------------------------------------------------------------------------------

def test_snippet_shows_the_original_text_with_exact_cjk_highlight(corpus):
    hit = search(corpus[0].conn, "小狗").hits[0]
    assert hit.snippet == f"图片中有一只{HL_START}小狗{HL_END}站在雪地上"
    assert highlight(hit.snippet) == "图片中有一只[小狗]站在雪地上"
    assert strip_highlight(hit.snippet) == CORPUS["dog"][3]


@pytest.mark.parametrize("query, marked", [
    ("abc", "ＡＢＣ"),  # fullwidth original, highlighted as written
    ("ｶﾀｶﾅ", "カタカナ"),
    ("cafe", "CAFÉ"),
    ("42.50", "42.50"),
    ("billing@example.com", "billing@example.com"),
    ("invo", "Invo"),  # a prefix highlights what was typed
    ("iPhone截图", "iPhone"),
])
def test_snippet_marks_what_matched(corpus, query, marked):
    hit = search(corpus[0].conn, query).hits[0]
    assert f"{HL_START}{marked}{HL_END}" in hit.snippet


def test_snippet_of_a_long_text_is_a_window_around_the_match(tmp_path, monkeypatch):
    index = Index(connect(tmp_path / "i.db"))
    filler = "lorem ipsum dolor sit amet " * 40
    text = filler + "the needle is here " + filler
    add_image(index, "long", "/x/long.png", ocr=text)
    hit = search(index.conn, "needle").hits[0]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    plain = strip_highlight(hit.snippet).strip("…")
    assert plain in text and "needle" in plain and len(plain) <= search_mod.SNIPPET_WIDTH + 2
    assert hit.snippet.count(HL_START) == 1


def test_snippet_prefers_the_window_with_most_query_words(tmp_path):
    index = Index(connect(tmp_path / "i.db"))
    text = "alpha " + "filler " * 60 + "alpha beta gamma " + "filler " * 60 + "gamma"
    add_image(index, "w", "/x/w.png", ocr=text)
    hit = search(index.conn, "alpha beta gamma").hits[0]
    assert f"{HL_START}alpha{HL_END} {HL_START}beta{HL_END} {HL_START}gamma{HL_END}" in hit.snippet


def test_file_name_snippet_when_only_the_name_matches(corpus):
    hit = search(corpus[0].conn, "quarterly").hits[0]
    assert hit.snippet == f"{HL_START}quarterly{HL_END}-report-final.png"
    assert hit.fields["snippet_from"] == "names"
    assert search(corpus[0].conn, "reimbursement").hits[0].fields["snippet_from"] == "answers"


# --- filters, paging, sorting ----------------------------------------------------------------

def test_folder_filter_is_a_path_prefix_on_folder_boundaries(corpus):
    assert set(found(corpus, "", filters=Filters(folder="/pics/animals"))) == {"dog", "cat"}
    assert set(found(corpus, "", filters=Filters(folder="/pics/animals/"))) == {"dog", "cat"}
    assert set(found(corpus, "", filters=Filters(folder="/pics"))) == {"dog", "cat", "japan", "phone", "cafe",
                                                                       "korean"}
    assert found(corpus, "", filters=Filters(folder="/pics/anim")) == []  # not a folder boundary
    assert found(corpus, "dog", filters=Filters(folder="/docs")) == []
    assert len(found(corpus, "", filters=Filters(folder="/"))) == len(CORPUS)


def test_source_and_date_filters(corpus):
    assert set(found(corpus, "", filters=Filters(source="screenshot"))) == {"code", "phone", "python"}
    assert found(corpus, "error", filters=Filters(source="screenshot")) == ["code"]  # not ValueError
    assert set(found(corpus, "", filters=Filters(since=NOW - 15 * DAY))) == {"phone", "cafe", "korean", "report",
                                                                            "python"}
    assert set(found(corpus, "", filters=Filters(until=NOW - 250 * DAY))) == {"dog", "cat"}
    # A range inside one day and a range over years.
    assert found(corpus, "", filters=Filters(since=NOW - 30 * DAY - 60, until=NOW - 30 * DAY + 60)) == ["code"]
    assert set(found(corpus, "狗", filters=Filters(since=NOW - 3000 * DAY, until=NOW - 350 * DAY))) == {"dog"}
    assert found(corpus, "", filters=Filters(since=NOW + DAY)) == []
    assert found(corpus, "", filters=Filters(until=NOW - 5000 * DAY)) == []


def test_combined_filters(corpus):
    f = Filters(source="folder", folder="/pics", since=NOW - 100 * DAY)
    assert set(found(corpus, "", filters=f)) == {"japan", "cafe", "korean"}
    assert found(corpus, "東京", filters=f) == ["japan"]


def test_a_selective_filter_finds_matches_beyond_the_candidate_cap(tmp_path, monkeypatch):
    """The cap on ranked candidates applies after filtering: a small folder loses nothing."""
    monkeypatch.setattr(search_mod, "CANDIDATE_CAP", 10)
    index = Index(connect(tmp_path / "i.db"))
    rare = [add_image(index, f"r{i}", f"/rare/r{i}.png", ocr=f"receipt number {i}") for i in range(5)]
    for i in range(60):  # newer matches outside the folder
        add_image(index, f"c{i}", f"/common/c{i}.png", ocr=f"receipt copy {i}")
    page = search(index.conn, "receipt", filters=Filters(folder="/rare"), limit=5)
    assert sorted(h.image_id for h in page.hits) == sorted(rare)
    assert page.total == 5 and page.total_exact
    unfiltered = search(index.conn, "receipt", limit=5)
    assert unfiltered.total == 10 and not unfiltered.total_exact  # "at least 10"


@pytest.mark.parametrize("filters", [None, Filters(folder="/p"), Filters(source="folder", since=0)])
def test_paging_is_stable_and_covers_every_match(tmp_path, filters):
    index = Index(connect(tmp_path / "i.db"))
    ids = {add_image(index, f"p{i}", f"/p/p{i}.png", ocr="sunset " * (1 + i % 4) + f"beach {i}") for i in range(23)}
    add_image(index, "other", "/q/other.png", ocr="sunset over the sea", source="import")
    if filters is None:
        ids.add(index.conn.execute("SELECT max(id) FROM images").fetchone()[0])
    pages = [search(index.conn, "sunset", limit=5, offset=o, filters=filters) for o in range(0, 25, 5)]
    seen = [h.image_id for p in pages for h in p.hits]
    assert len(seen) == len(ids) and set(seen) == ids
    assert all(p.total == len(ids) and p.total_exact for p in pages)
    scores = [h.score for p in pages for h in p.hits]
    assert scores == sorted(scores, reverse=True)
    again = [h.image_id for o in range(0, 25, 5)
             for h in search(index.conn, "sunset", limit=5, offset=o, filters=filters).hits]
    assert again == seen
    assert search(index.conn, "sunset", limit=5, offset=100, filters=filters).hits == []


@pytest.mark.parametrize("query, filters", [
    ("dog", Filters(folder="/pics")),
    ("狗", Filters(source="folder")),
    ("error", Filters(source="screenshot", since=NOW - 60 * DAY)),
    ("a", Filters(folder="/pics", until=NOW - DAY)),
])
def test_both_plans_for_filtered_ranking_agree(corpus, monkeypatch, query, filters):
    """Filtered candidates are ranked apart, or in one query when the words fill their range."""
    conn = corpus[0].conn
    apart = search(conn, query, filters=filters)
    monkeypatch.setattr(search_mod, "RANGE_PROBE", 1)
    together = search(conn, query, filters=filters)
    assert apart.hits and [h.image_id for h in apart.hits] == [h.image_id for h in together.hits]
    assert [h.score for h in apart.hits] == pytest.approx([h.score for h in together.hits])
    assert apart.total == together.total


def test_sort_by_date_and_the_empty_query_list_newest_first(corpus):
    newest_first = sorted(CORPUS, key=lambda k: CORPUS[k][2])
    assert found(corpus, "") == newest_first
    dated = found(corpus, "狗", sort="date")
    assert dated == ["cat", "dog"]
    with pytest.raises(ValueError):
        search(corpus[0].conn, "dog", sort="sideways")


# --- ranking ---------------------------------------------------------------------------------

def test_ranking(tmp_path):
    index = Index(connect(tmp_path / "i.db"))
    for i in range(20):  # bm25 needs a corpus in which the word is rare
        add_image(index, f"x{i}", f"/r/x{i}.png", ocr=f"holiday photo number {i} " * 5)
    long_text = "meeting notes " * 30
    once = add_image(index, "once", "/r/a.png", ocr=long_text + "budget")
    many = add_image(index, "many", "/r/b.png", ocr=long_text + "budget budget budget budget")
    named = add_image(index, "named", "/r/budget.png", ocr=long_text)
    described = add_image(index, "described", "/r/d.png", ocr=long_text,
                          description="A spreadsheet of the yearly budget, a few rows filled in.")
    order = [h.image_id for h in search(index.conn, "budget").hits]
    assert order.index(many) < order.index(once)  # more occurrences
    assert order.index(named) < order.index(once)  # the file is named after it
    assert order.index(described) < order.index(once)  # the description says what the image is about
    # A CJK phrase beats the same characters apart, which do not match at all.
    apart = add_image(index, "apart", "/r/c.png", ocr="小猫和狗")
    together = add_image(index, "together", "/r/d.png", ocr="一只小狗")
    assert [h.image_id for h in search(index.conn, "小狗").hits] == [together]
    assert apart not in [h.image_id for h in search(index.conn, "小狗").hits]


# --- the index follows the data --------------------------------------------------------------

def test_updating_a_result_updates_search(tmp_path):
    index = Index(connect(tmp_path / "i.db"))
    iid = add_image(index, "u", "/u/u.png", ocr="first draft of the poster")
    assert [h.image_id for h in search(index.conn, "draft").hits] == [iid]
    index.add_result(iid, Result("ocr", "final version of the poster 海报", "rapidocr"))  # replaces the OCR
    assert search(index.conn, "draft").hits == []
    assert [h.image_id for h in search(index.conn, "final").hits] == [iid]
    assert [h.image_id for h in search(index.conn, "海报").hits] == [iid]


def test_forget_removes_from_search(tmp_path):
    index = Index(connect(tmp_path / "i.db"))
    keep = add_image(index, "k", "/f/keep.png", ocr="zebra crossing")
    gone = add_image(index, "g", "/f/gone.png", ocr="zebra stripes 斑马")
    assert {h.image_id for h in search(index.conn, "zebra").hits} == {keep, gone}
    index.forget(gone)
    assert [h.image_id for h in search(index.conn, "zebra").hits] == [keep]
    assert search(index.conn, "斑马").hits == []
    assert index.conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 1


def test_a_renamed_file_is_found_by_its_new_name_only(tmp_path):
    index = Index(connect(tmp_path / "i.db"))
    iid = add_image(index, "n", "/photos/holiday-draft.png")
    assert [h.image_id for h in search(index.conn, "holiday").hits] == [iid]
    index.move_location("/photos/holiday-draft.png", "/archive/2019/wedding-final.png")
    assert search(index.conn, "holiday").hits == []
    assert [h.image_id for h in search(index.conn, "wedding").hits] == [iid]
    assert search(index.conn, "", filters=Filters(folder="/photos")).hits == []
    assert [h.image_id for h in search(index.conn, "", filters=Filters(folder="/archive")).hits] == [iid]


def test_an_unchanged_document_is_not_rewritten(tmp_path):
    index = Index(connect(tmp_path / "i.db"))
    iid = add_image(index, "s", "/s/s.png", ocr="steady state")
    changes = index.conn.total_changes
    index.refresh_search_doc(iid)
    assert index.conn.total_changes == changes
