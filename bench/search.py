"""Search benchmark: latency per kind of query at 100k and 1M synthetic images, DB size, indexing cost.

    python bench/search.py                      # 100k and 1M images
    python bench/search.py --sizes 100000 --repeats 9 --per-query

Each corpus is generated once into .bench-data/ (git-ignored; the name carries a hash of the
code that shapes the index) through the real schema, in worker processes, written in
transactions of 50k images; its search_docs rows come from Doc.indexed(), the builder behind
Index.refresh_search_doc (search_words too), and the FTS index from the real triggers.
Text is synthetic but shaped like the real thing: OCR of screenshots (UI strings, errors,
invoices, chat), one-paragraph descriptions, camera/screenshot file names, a few answers;
English, Chinese, Chinese with English terms, Japanese; Zipf-distributed words. Planted
phrases, a 50-image folder, rare sources and a 3-year date spread give the queries known
selectivity. Latency is search() end to end (FTS query, ranking, snippets for a page of 20),
as wall time and as the thread's CPU time (less disturbed when the machine is shared).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vlagent.index.db import connect, transaction  # noqa: E402
from vlagent.index.migrations import V1_SCHEMA  # noqa: E402
from vlagent.index.search import Filters, search  # noqa: E402
from vlagent.index.search_docs import Doc, words  # noqa: E402
from vlagent.index.store import Index, Result  # noqa: E402

GEN_VERSION = 1  # bump when the corpus changes
DAY = 86400.0
T0 = 1_640_995_200.0  # 2022-01-01 UTC; the corpus spans three years from here
SPAN = 3 * 365 * DAY
RARE_FOLDER = "/home/user/Projects/rare-folder"

EN_FUNCTION = ["the", "of", "and", "to", "a", "in", "is", "you", "that", "it", "for", "on", "with", "as", "are", "this", "be", "at", "or", "from", "by", "your", "not", "have", "an", "was", "all", "can", "will", "more", "if", "has", "but", "we", "our", "about", "one", "my", "which", "their", "they", "there", "other", "also", "than", "only", "when", "what", "new", "up", "out", "no", "so", "do", "been", "into", "its", "these", "some", "any", "may", "would", "should", "could"]
EN_CONTENT = ["error", "file", "settings", "save", "cancel", "open", "close", "window", "screen", "screenshot", "button", "click", "update", "download", "upload", "account", "password", "email", "message", "meeting", "report", "invoice", "total", "payment", "order", "price", "project", "release", "version", "server", "database", "connection", "network", "user", "search", "results", "image", "photo", "camera", "dog", "cat", "snow", "beach", "mountain", "city", "street", "car", "train", "flight", "ticket", "hotel", "booking", "menu", "home", "profile", "notification", "calendar", "schedule", "deadline", "budget", "revenue", "quarterly", "sales", "customer", "support", "team", "chat", "call", "video", "music", "playlist", "weather", "temperature", "map", "location", "address", "phone", "contact", "delivery", "package", "tracking", "shipping", "cart", "checkout", "discount", "coupon", "receipt", "bank", "transfer", "balance", "transaction", "statement", "document", "spreadsheet", "presentation", "slide", "chart", "graph", "table", "code", "function", "class", "variable", "test", "build", "deploy", "commit", "branch", "merge", "issue", "bug", "fix", "feature", "review", "comment", "reply", "share", "like", "follow", "post", "story", "news", "article", "headline", "title", "summary", "terminal", "command", "output", "install", "python", "javascript", "docker", "linux", "windows", "android", "iphone", "browser", "chrome", "firefox", "tab", "link", "website", "login", "logout", "sign", "register", "verify", "security", "privacy", "policy", "terms", "agreement", "license", "warning", "failed", "success", "completed", "pending", "processing", "loading", "connecting", "refused", "timeout", "retry", "exit", "status", "running", "stopped", "memory", "disk", "cpu", "usage", "performance", "speed", "quality", "resolution", "display", "monitor", "keyboard", "mouse", "printer", "scanner", "paper", "book", "chapter", "lesson", "course", "student", "teacher", "school", "exam", "score", "grade", "recipe", "ingredients", "restaurant", "food", "coffee", "tea", "breakfast", "lunch", "dinner", "party", "birthday", "wedding", "holiday", "vacation", "travel", "trip", "passport", "visa", "airport", "gate", "departure", "arrival", "boarding", "seat", "baggage", "morning", "evening", "today", "tomorrow", "yesterday", "week", "month", "year", "monday", "friday", "weekend", "office", "desk", "laptop", "tablet", "charger", "battery", "wifi", "bluetooth", "router", "password", "storage", "cloud", "backup", "sync", "folder", "archive", "zip", "pdf", "docx", "xlsx", "pptx", "slack", "teams", "zoom", "outlook", "gmail", "calendar", "reminder", "alarm", "timer", "stopwatch", "clock", "step", "guide", "tutorial", "example", "sample", "template", "draft", "final", "approved", "rejected", "signed", "contract", "vendor", "supplier", "quote", "estimate", "tax", "vat", "subtotal", "amount", "due", "paid", "unpaid", "overdue", "refund", "return"]
ZH_WORDS = ["图片", "截图", "屏幕", "设置", "保存", "取消", "打开", "关闭", "窗口", "按钮", "点击", "更新", "下载", "上传", "账号", "密码", "邮件", "消息", "会议", "报告", "发票", "金额", "付款", "订单", "价格", "项目", "发布", "版本", "服务器", "数据库", "连接", "网络", "用户", "搜索", "结果", "照片", "相机", "小狗", "小猫", "雪地", "海滩", "山", "城市", "街道", "汽车", "火车", "航班", "机票", "酒店", "预订", "菜单", "首页", "通知", "日历", "日程", "截止", "预算", "收入", "季度", "销售", "客户", "支持", "团队", "聊天", "电话", "视频", "音乐", "天气", "温度", "地图", "位置", "地址", "联系人", "快递", "包裹", "物流", "购物车", "结算", "优惠", "收据", "银行", "转账", "余额", "交易", "文档", "表格", "演示", "图表", "代码", "函数", "测试", "构建", "部署", "提交", "分支", "合并", "问题", "修复", "功能", "评论", "回复", "分享", "关注", "文章", "新闻", "标题", "摘要", "终端", "命令", "输出", "安装", "浏览器", "链接", "网站", "登录", "退出", "注册", "验证", "安全", "隐私", "协议", "警告", "失败", "成功", "完成", "等待", "处理", "加载", "拒绝", "超时", "重试", "状态", "运行", "停止", "内存", "磁盘", "性能", "速度", "质量", "分辨率", "显示器", "键盘", "鼠标", "打印机", "纸张", "书", "章节", "课程", "学生", "老师", "学校", "考试", "分数", "菜谱", "餐厅", "食物", "咖啡", "茶", "早餐", "午餐", "晚餐", "聚会", "生日", "婚礼", "假期", "旅行", "护照", "签证", "机场", "登机口", "出发", "到达", "座位", "行李", "早上", "晚上", "今天", "明天", "昨天", "星期", "月份", "办公室", "笔记本", "电池", "蓝牙", "存储", "云端", "备份", "同步", "文件夹", "压缩", "教程", "示例", "模板", "草稿", "审批", "合同", "供应商", "报价", "税", "小计", "应付", "已付", "退款", "微信", "支付宝", "朋友圈", "群聊", "红包", "二维码", "扫一扫", "公众号", "小程序", "淘宝", "京东", "抖音", "知乎", "百度", "站在", "一只", "一个", "一张", "显示", "包含", "中间", "左边", "右边", "上面", "下面", "背景", "前景", "颜色", "白色", "黑色", "红色", "蓝色", "绿色", "文字", "内容", "页面", "界面", "列表", "对话框"]
ZH_FUNCTION = list("的了是在有和也就都而及与着或一这那你我他她它们个上中下不")
JA_WORDS = ["スクリーンショット", "設定", "保存", "キャンセル", "エラー", "ファイル", "画面", "ボタン", "会議", "請求書", "合計", "支払い", "注文", "価格", "写真", "カメラ", "犬", "猫", "雪", "東京", "駅", "電車", "予約", "メール", "パスワード", "接続", "失敗", "成功", "更新", "ダウンロード", "の", "を", "に", "は", "が", "で", "と", "も", "です", "ます", "した", "して", "いる", "ある", "こと", "これ", "それ"]
EN_IN_ZH = ["iPhone", "Python", "Excel", "PDF", "WiFi", "App", "Windows", "Mac", "GitHub", "API", "Bug", "Zoom", "PPT", "Word"]
APPS = ["Chrome", "Slack", "Excel", "Terminal", "VSCode", "WeChat", "Outlook", "Zoom", "Finder", "Settings", "Photoshop", "Notion", "Figma"]


class Words:
    """Zipf-distributed draws from a ranked vocabulary."""

    def __init__(self, words: list[str], s: float = 1.0):
        self.words = words
        self.cum = list(itertools.accumulate(1 / (r + 1) ** s for r in range(len(words))))

    def draw(self, rnd: random.Random, k: int) -> list[str]:
        return rnd.choices(self.words, cum_weights=self.cum, k=k)


class Corpus:
    """Deterministic synthetic image texts: ``doc(i)`` is the same for the same i and seed."""

    def __init__(self, seed: int = 7):
        rnd = random.Random(seed)
        gb = [bytes([hi, lo]).decode("gb2312") for hi in range(0xB0, 0xD8) for lo in range(0xA1, 0xFF)
              if not (hi == 0xD7 and lo > 0xF9)]
        rnd.shuffle(gb)
        tail_en = ["".join(rnd.choice("bcdfghjklmnprstvwz") + rnd.choice("aeiou") for _ in range(rnd.randint(2, 4)))
                   for _ in range(30000)]
        tail_zh = [rnd.choice(gb) + rnd.choice(gb) for _ in range(30000)]
        self.en = Words(EN_FUNCTION + EN_CONTENT + tail_en)
        self.zh = Words(ZH_WORDS + tail_zh)
        self.zh_fn = Words(ZH_FUNCTION, 0.8)
        self.ja = Words(JA_WORDS, 0.6)
        self.seed = seed

    def _en(self, rnd, n_words: int) -> str:
        out, words = [], self.en.draw(rnd, n_words)
        for i, w in enumerate(words):
            r = rnd.random()
            if r < 0.015:
                w = f"{rnd.randint(1, 999)}.{rnd.randint(0, 99):02d}"
            elif r < 0.02:
                w = f"{rnd.randint(2019, 2025)}-{rnd.randint(1, 9999):04d}"
            elif r < 0.022:
                w = f"{w}.{rnd.choice(words)}@example.com"
            elif r < 0.024:
                w = f"https://{rnd.choice(words)}.example.com/{rnd.choice(words)}"
            out.append(w.capitalize() if i == 0 or out[-1].endswith(".") else w)
            if rnd.random() < 0.09:
                out[-1] += rnd.choice(".,:;")
        return " ".join(out)

    def _zh(self, rnd, n_words: int, english: bool = False) -> str:
        out = []
        for w, fn, r in zip(self.zh.draw(rnd, n_words), self.zh_fn.draw(rnd, n_words), rnd.choices(range(100), k=n_words)):
            out.append(w)
            if r < 35:
                out.append(fn)
            if english and r % 13 == 0:
                out.append(f" {EN_IN_ZH[r % len(EN_IN_ZH)]} ")
            if r % 8 == 1:
                out.append("，，，。、：；"[r % 7])
        return "".join(out) + "。"

    def _ja(self, rnd, n_words: int) -> str:
        return "".join(self.ja.draw(rnd, n_words)) + "。"

    def _text(self, rnd, lang: str, chars: int) -> str:
        if lang == "en":
            return self._en(rnd, max(1, chars // 6))
        if lang == "ja":
            return self._ja(rnd, max(1, chars // 3))
        return self._zh(rnd, max(1, chars // 3), english=lang == "mix")

    def doc(self, i: int, n: int) -> dict:
        rnd = random.Random(self.seed * 1_000_003 + i)
        lang = rnd.choices(["en", "zh", "mix", "ja"], [50, 35, 10, 5])[0]
        first_seen = T0 + SPAN * i / n + rnd.random() * 60
        src = rnd.choices(["folder", "screenshot", "import", "api"], [80, 17, 2.5, 0.5])[0]
        stamp = time.strftime("%Y-%m-%d %H.%M.%S", time.gmtime(first_seen))
        if i % (n // 50) == 7 and i // (n // 50) < 50:  # exactly 50 images, spread over the whole range
            folder = RARE_FOLDER
        elif src == "screenshot":
            folder = "/home/user/Pictures/Screenshots"
        else:
            folder = f"/home/user/Pictures/{stamp[:4]}/{rnd.choice(self.en.words[100:400])}"
        stamp += f".{i % 1000:03d}"  # unique names in a folder, whatever the size
        name = rnd.choice([f"Screenshot {stamp}.png", f"IMG_{stamp.replace('-', '').replace(' ', '_').replace('.', '')}.jpg",
                           f"微信图片_{stamp[:10].replace('-', '')}{i:07d}.jpg", f"DSC{i:07d}.JPG",
                           f"{'-'.join(self.en.draw(rnd, 2))}-{i}.png", f"截屏{stamp}.png"])
        has_text = src == "screenshot" or rnd.random() < 0.55
        ocr = ""
        if has_text:
            chars = min(4000, int(rnd.lognormvariate(6.2, 0.8)))  # median ~490 characters
            ocr = self._text(rnd, lang, chars)
            if rnd.random() < 0.05:
                ocr = f"{rnd.choice(APPS)} — Error: connection refused while contacting the database server. " + ocr
            if rnd.random() < 0.001:
                ocr += " Invoice number 2024-0193 total due 42.50 EUR, billing@example.com"
        desc = ""
        if rnd.random() < 0.9:
            if lang == "en":
                desc = f"A {'screenshot of ' + rnd.choice(APPS) if src == 'screenshot' else 'photo'} showing " \
                       + self._en(rnd, rnd.randint(35, 90))
            else:
                desc = ("这是一张截图，显示" if src == "screenshot" else "图片中有") + self._zh(rnd, rnd.randint(40, 120))
            if rnd.random() < 0.001:
                desc += "图片中有一只小狗站在雪地上。"
        answers = []
        if rnd.random() < 0.03:
            answers.append(("What is the total?" if lang == "en" else "总金额是多少？", self._text(rnd, lang, 80)))
        return {"first_seen": first_seen, "source": src, "path": f"{folder}/{name}", "ocr": ocr,
                "description": desc, "answers": answers}


_corpus: Corpus | None = None


def _rows(span: tuple[int, int, int]) -> list[tuple]:
    """Rows for images lo..hi-1 of n (run in worker processes): generated texts and the
    search_docs row, built by the same Doc.indexed() that Index.refresh_search_doc uses."""
    global _corpus
    _corpus = _corpus or Corpus()
    lo, hi, n = span
    out = []
    for i in range(lo, hi):
        d = _corpus.doc(i, n)
        results = [("ocr", d["ocr"], "rapidocr", None)] if d["ocr"] else []
        results += [("description", d["description"], "qwen2.5-vl", None)] if d["description"] else []
        results += [("answer", a, "qwen2.5-vl", q) for q, a in d["answers"]]
        doc = Doc(i + 1, d["source"], d["first_seen"], [d["path"]], [d["ocr"]] if d["ocr"] else [],
                  [d["description"]] if d["description"] else [], [f"{q}\n{a}" for q, a in d["answers"]])
        out.append((i + 1, d, results, doc.indexed()))
    return out


def build(path: Path, n: int, workers: int, rebuild: bool) -> dict:
    """Generate ``n`` images into a new DB at ``path`` (resuming an interrupted build); returns load timings."""
    tmp = path.with_suffix(".tmp")
    if rebuild:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
    db = connect(tmp)
    conn = db.conn
    start = time.perf_counter()
    step, commit_every = 500, 50_000
    resumed = conn.execute("SELECT count(*) FROM images").fetchone()[0]  # whole committed batches
    spans = [(lo, min(n, lo + step), n) for lo in range(resumed, n, step)]
    with multiprocessing.Pool(workers) as pool:
        conn.execute("BEGIN")
        # A few spans in flight at a time: the workers must not run ahead of SQLite into memory.
        in_flight = (pool.imap(_rows, spans[k:k + 8 * workers]) for k in range(0, len(spans), 8 * workers))
        for rows in itertools.chain.from_iterable(in_flight):
            conn.executemany("INSERT INTO images(id, sha256, width, height, format, bytes, mtime, source, first_seen)"
                             " VALUES (?, ?, 1920, 1080, 'png', 250000, ?, ?, ?)",
                             [(iid, f"{iid:064x}", d["first_seen"], d["source"], d["first_seen"])
                              for iid, d, _, _ in rows])
            conn.executemany("INSERT INTO locations(image_id, path, size, mtime, seen_at) VALUES (?,?,?,?,?)",
                             [(iid, d["path"], 250000, d["first_seen"], d["first_seen"]) for iid, d, _, _ in rows])
            conn.executemany("INSERT INTO results(image_id, kind, text, engine, prompt, created_at)"
                             " VALUES (?,?,?,?,?,?)",
                             [(iid, k, tx, e, q, d["first_seen"]) for iid, d, res, _ in rows for k, tx, e, q in res])
            conn.executemany("INSERT INTO search_docs(image_id, names, ocr, description, answers, filters)"
                             " VALUES (?,?,?,?,?,?)", [(iid, *doc) for iid, _, _, doc in rows])
            conn.executemany("INSERT OR IGNORE INTO search_words(word) VALUES (?)",
                             [(w,) for w in set().union(*(words(doc) for _, _, _, doc in rows))])
            done = rows[-1][0]
            if done % commit_every == 0 or done == n:
                conn.execute("COMMIT")
                print(f"  {path.name}: {done:,}/{n:,} images, {time.perf_counter() - start:.0f} s",
                      file=sys.stderr, flush=True)
                if done < n:
                    conn.execute("BEGIN")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    stats = {"images": n, "images_per_s": (n - resumed) / (time.perf_counter() - start), "workers": workers}
    path.with_suffix(".json").write_text(json.dumps(stats))
    return stats


# (kind, query, filters, sort, offset)
def queries(now: float) -> list[tuple]:
    f = Filters
    return [
        ("common", "the", None, "relevance", 0),
        ("common", "error", None, "relevance", 0),
        ("common", "screenshot", None, "relevance", 0),
        ("common", "settings save", None, "relevance", 0),
        ("rare", "tracking refund", None, "relevance", 0),
        ("rare", "billing@example.com", None, "relevance", 0),
        ("rare", "xylophone", None, "relevance", 0),
        ("phrase", '"connection refused"', None, "relevance", 0),
        ("phrase", "42.50", None, "relevance", 0),
        ("phrase", "2024-0193", None, "relevance", 0),
        ("phrase", "https://www.example.com/", None, "relevance", 0),
        ("cjk-2", "小狗", None, "relevance", 0),
        ("cjk-2", "图片", None, "relevance", 0),
        ("cjk-2", "数据", None, "relevance", 0),
        ("cjk-2", "雪地", None, "relevance", 0),
        ("cjk-1", "狗", None, "relevance", 0),
        ("cjk-1", "的", None, "relevance", 0),
        ("cjk-1", "猫", None, "relevance", 0),
        ("cjk-3+", "数据库", None, "relevance", 0),
        ("cjk-3+", "一只小狗站在雪地上", None, "relevance", 0),
        ("cjk-3+", "スクリーンショット", None, "relevance", 0),
        ("mixed", "iPhone 截图", None, "relevance", 0),
        ("mixed", "Python错误", None, "relevance", 0),
        ("mixed", "微信 payment", None, "relevance", 0),
        *[("prefix", "screenshot"[:k], None, "relevance", 0) for k in range(2, 11)],
        *[("prefix", "connection"[:k], None, "relevance", 0) for k in range(2, 6)],
        ("filtered", "the", f(folder=RARE_FOLDER), "relevance", 0),
        ("filtered", "", f(folder=RARE_FOLDER), "relevance", 0),
        ("filtered", "error", f(source="api"), "relevance", 0),
        ("filtered", "the", f(since=now - 7 * DAY), "relevance", 0),
        ("filtered", "error", f(since=T0 + 100 * DAY, until=T0 + 130 * DAY), "relevance", 0),
        ("filtered", "小狗", f(since=T0 + 400 * DAY, until=T0 + 800 * DAY), "relevance", 0),
        ("filtered", "error", f(source="screenshot", folder="/home/user/Pictures"), "relevance", 0),
        ("date-sort", "the", None, "date", 0),
        ("date-sort", "小狗", None, "date", 0),
        ("paging", "error", None, "relevance", 1000),
        ("paging", "the", None, "date", 5000),
        ("empty", "", None, "relevance", 0),
        ("relaxed", "雪地上的小狗", None, "relevance", 0),
        ("relaxed", "refused quarterly xylophone", None, "relevance", 0),
        ("punctuation", "()*:-\"", None, "relevance", 0),
    ]


def measure(db_path: Path, repeats: int, per_query: bool) -> tuple[dict, list]:
    db = connect(db_path)
    conn = db.conn
    now = conn.execute("SELECT max(first_seen) FROM images").fetchone()[0]
    samples: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for kind, q, filters, sort, offset in queries(now):
        search(conn, q, filters=filters, sort=sort, offset=offset, relax=True)  # warm the page cache
        times, cpus = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.thread_time()
            page = search(conn, q, filters=filters, sort=sort, offset=offset, relax=True)
            times.append((time.perf_counter() - t) * 1000)
            cpus.append((time.thread_time() - c) * 1000)
        samples.setdefault(kind, []).extend(times)
        cpu.setdefault(kind, []).extend(cpus)
        if per_query:
            total = f"{page.total}{'' if page.total_exact else '+'}{' relaxed' if page.relaxed else ''}"
            print(f"    {kind:<11} {q!r:<28} {_fmt_filters(filters):<34} {statistics.median(times):7.2f} ms"
                  f" (cpu {statistics.median(cpus):6.2f})  hits {total}", file=sys.stderr)
    conn.close()
    return samples, cpu


def _fmt_filters(f: Filters | None) -> str:
    if f is None:
        return ""
    return " ".join(f"{k}={v if k in ('source', 'folder') else time.strftime('%Y-%m-%d', time.gmtime(v))}"
                    for k, v in vars(f).items() if v is not None)


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def sizes(db_path: Path, n: int) -> dict:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    by_table = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    conn.close()
    search_part = sum(v for k, v in by_table.items() if k.startswith("search_"))
    fts_part = sum(v for k, v in by_table.items() if k.startswith("search_fts"))
    text = sum(v for k, v in by_table.items() if k == "results" or k.startswith("sqlite_autoindex_results"))
    return {"file": db_path.stat().st_size / n, "search": search_part / n, "fts": fts_part / n,
            "docs": by_table.get("search_docs", 0) / n, "results": text / n}


def indexing_cost(db_path: Path, count: int) -> dict:
    """Each add_result refreshes the image's search doc (one transaction each, as the worker does)."""
    db = connect(db_path)
    index = Index(db)
    n = db.conn.execute("SELECT max(id) FROM images").fetchone()[0]
    ids = random.Random(3).sample(range(1, n + 1), count)
    ocr = [index.latest_text(i, "ocr") or index.latest_text(i, "description") for i in ids]
    t = time.perf_counter()
    added = [index.add_result(i, Result("answer", text[:400], "bench", prompt="what does it say?"))
             for i, text in zip(ids, ocr)]
    per_result = (time.perf_counter() - t) / count
    t = time.perf_counter()
    for i in ids:  # an unchanged doc: read, compare, leave alone
        index.refresh_search_doc(i)
    unchanged = (time.perf_counter() - t) / count
    for i, rid in zip(ids, added):  # put the cached corpus back as it was
        with transaction(db):
            db.conn.execute("DELETE FROM results WHERE id = ?", (rid,))
            index.refresh_search_doc(i)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return {"add_result_per_s": 1 / per_result, "refresh_unchanged_per_s": 1 / unchanged}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated image counts")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of each query")
    ap.add_argument("--data", type=Path, default=REPO / ".bench-data")
    ap.add_argument("--rebuild", action="store_true", help="regenerate cached corpora")
    ap.add_argument("--per-query", action="store_true", help="also print each query's median")
    ap.add_argument("--index-ops", type=int, default=500, help="result writes timed for the indexing cost")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes generating the corpus")
    args = ap.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        path = args.data / f"search-{n}-v{GEN_VERSION}-{shape_hash()}.db"
        if args.rebuild or not path.exists():
            print(f"generating {n:,} images into {path} …", file=sys.stderr)
            build(path, n, args.workers, args.rebuild)
        load = json.loads(path.with_suffix(".json").read_text())
        print(f"measuring {n:,} images …", file=sys.stderr)
        samples, cpu = measure(path, args.repeats, args.per_query)
        cost = indexing_cost(path, args.index_ops)
        rows.append((n, samples, cpu, sizes(path, n), load, cost))
    print(f"\nsearch latency, ms (search() end to end, page of 20 with snippets; {args.repeats} runs per query"
          " after a warm-up; shared machine)\n")
    kinds = list(rows[0][1])
    print("| kind | queries |" + "".join(f" wall p50 @{_n(n)} | wall p95 @{_n(n)} | cpu p50 @{_n(n)} | cpu p95 @{_n(n)} |"
                                     for n, *_ in rows))
    print("|---|---|" + "---|---|---|---|" * len(rows))
    for kind in [*kinds, None]:
        line = f"| {kind or '**all**'} | {len(rows[0][1][kind]) // args.repeats if kind else ''} |"
        for _, samples, cpu, *_ in rows:
            for values in (samples, cpu):
                v = values[kind] if kind else [x for vs in values.values() for x in vs]
                line += f" {pct(v, 50):.1f} | {pct(v, 95):.1f} |"
        print(line)
    print("\nsize and indexing cost\n")
    print("| images | DB bytes/image | search tables | of which FTS index | search_docs | results text |"
          " bulk load images/s | add_result+refresh /s | unchanged refresh /s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, _, _, size, load, cost in rows:
        print(f"| {_n(n)} | {size['file']:,.0f} | {size['search']:,.0f} | {size['fts']:,.0f} | {size['docs']:,.0f} |"
              f" {size['results']:,.0f} | {load['images_per_s']:,.0f} | {cost['add_result_per_s']:,.0f} |"
              f" {cost['refresh_unchanged_per_s']:,.0f} |")
    return 0


def shape_hash() -> str:
    """Cached corpora are named after what shapes the index: the schema and the docs it builds."""
    h = hashlib.sha256(f"{GEN_VERSION}{V1_SCHEMA}".encode())
    for _, _, _, doc in _rows((0, 200, 1000)):
        h.update(repr(doc).encode())
    return h.hexdigest()[:10]


def _n(n: int) -> str:
    return f"{n // 1000000}M" if n % 1000000 == 0 else f"{n // 1000}k"


if __name__ == "__main__":
    raise SystemExit(main())
