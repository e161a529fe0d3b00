"""The web face's words in English and Chinese, and which of the two a browser asks for.

The language follows the browser: its ``Accept-Language`` header (what ``navigator.languages``
lists), unless the page is opened with ``?lang=en`` or ``?lang=zh``. The page gets its table as
JSON; the server renders the static parts of the page in it too, so nothing flashes in English.
Chinese wording follows the desktop app's translations (resources/translations) where the
desktop has the same thing.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

EN: dict[str, str] = {
    "title": "vlagent",
    "search_placeholder": "Search text in images, descriptions, answers, file names…  ( / )",
    "nav_search": "Search",
    "nav_timeline": "Timeline",
    "ask_all": "Ask all",
    "ask_all_hint": "Ask a question about everything vlagent has seen",
    "upload": "Upload",
    "upload_hint": "Add images: choose files, drop them on the page, or paste (Ctrl+V)",
    "logout": "Sign out",
    "source": "Source",
    "seen": "Seen",
    "folder": "Folder",
    "sort": "Sort",
    "view": "View",
    "all_sources": "All sources",
    "src_folder": "Folders",
    "src_screenshot": "Screenshots",
    "src_import": "Imported",
    "src_api": "API",
    "src_web": "Web page",
    "any_time": "Any time",
    "today": "Today",
    "last_7": "Last 7 days",
    "last_30": "Last 30 days",
    "last_year": "Last year",
    "all_folders": "All folders",
    "other_folder": "Other folder…",
    "folder_prompt": "Only images under this folder (its full path):",
    "best_match": "Best match",
    "newest": "Newest first",
    "grid": "Grid",
    "list": "List",
    "most_recent": "Most recent",
    "one_result": "1 result",
    "n_results": "{n} results",
    "n_plus_results": "{n}+ results",
    "relaxed": "No exact match; images with some of the words",
    "nothing_indexed": "Nothing indexed yet",
    "nothing_indexed_hint": "Drop images here, or let vlagent watch a folder: everything it sees becomes searchable.",
    "no_results": "No results for “{query}”",
    "no_results_hint": "Try fewer words, or other filters.",
    "no_filter_results": "No images match these filters",
    "search_failed": "Search failed: {error}",
    "loading": "Loading…",
    "file_gone": "file gone",
    "close": "Close",
    "text": "Text",
    "description": "Description",
    "answers": "Answers",
    "details": "Details",
    "no_text": "No text was found in this image.",
    "no_description": "No description yet.",
    "no_answers": "No questions asked yet.",
    "copy_text": "Copy text",
    "copied": "Copied",
    "copied_lines": "Copied {n} lines",
    "copy_failed": "Could not copy: select the text and press Ctrl+C",
    "boxes_hint": "Click a line to copy it; drag to select several.",
    "show_boxes": "Text boxes",
    "ask": "Ask",
    "stop": "Stop",
    "ask_placeholder": "Ask about this image…",
    "ask_all_placeholder": "Ask about everything you have seen… (e.g. “what was the total on the invoice last week?”)",
    "thinking": "Thinking… (the model loads on the first question)",
    "you": "You",
    "sources": "Sources",
    "no_sources": "Nothing that was seen matches this question.",
    "source_label": "Source:",
    "first_seen": "First seen:",
    "taken": "Taken:",
    "size": "Size:",
    "format": "Format:",
    "files": "Files:",
    "gone": "(gone)",
    "sha": "SHA-256:",
    "jobs": "Jobs:",
    "engine": "Engine",
    "time": "Time",
    "drop_here": "Drop images to index them and ask",
    "uploading": "Indexing {name}…",
    "uploaded": "Indexed {name}",
    "upload_failed": "{name}: {error}",
    "prev": "Previous",
    "next": "Next",
    "image_n": "Image #{id}",
    "timeline_empty": "Nothing seen yet.",
    "n_images": "{n} images",
    "one_image": "1 image",
    "error": "Error: {error}",
    "signed_out": "Signed out.",
    "login_title": "Sign in to vlagent",
    "login_lead": ("Open the link that “vlagent serve” printed, or paste the API token "
                   "(the command “vlagent api-token” prints it)."),
    "login_token": "API token",
    "login_button": "Sign in",
    "login_bad": ("That link or token is not valid (a login link works once). Paste the API token, "
                  "or restart “vlagent serve” for a new link."),
    "login_ok": "Signed in. Opening vlagent…",
    "login_continue": "Continue",
    "keys_hint": "/ search · ←↑→↓ move · Enter open · Esc close",
}

ZH: dict[str, str] = {
    "title": "vlagent",
    "search_placeholder": "搜索图片中的文字、描述、回答、文件名…  ( / )",
    "nav_search": "搜索",
    "nav_timeline": "时间线",
    "ask_all": "全部提问",
    "ask_all_hint": "就 vlagent 看到过的一切提问",
    "upload": "上传",
    "upload_hint": "添加图片：选择文件、拖放到页面上，或粘贴（Ctrl+V）",
    "logout": "退出登录",
    "source": "来源",
    "seen": "时间",
    "folder": "文件夹",
    "sort": "排序",
    "view": "视图",
    "all_sources": "全部来源",
    "src_folder": "文件夹",
    "src_screenshot": "截图",
    "src_import": "导入",
    "src_api": "API",
    "src_web": "网页",
    "any_time": "任何时间",
    "today": "今天",
    "last_7": "最近 7 天",
    "last_30": "最近 30 天",
    "last_year": "最近一年",
    "all_folders": "全部文件夹",
    "other_folder": "其他文件夹…",
    "folder_prompt": "只显示此文件夹中的图片（完整路径）：",
    "best_match": "最相关",
    "newest": "最新优先",
    "grid": "网格",
    "list": "列表",
    "most_recent": "最近的图片",
    "one_result": "1 个结果",
    "n_results": "{n} 个结果",
    "n_plus_results": "{n}+ 个结果",
    "relaxed": "没有完全匹配的结果；以下图片包含部分词语",
    "nothing_indexed": "还没有索引任何图片",
    "nothing_indexed_hint": "把图片拖到这里，或让 vlagent 监视文件夹：它看到的一切都能在这里搜索。",
    "no_results": "没有找到“{query}”",
    "no_results_hint": "试试更少的词，或换个筛选条件。",
    "no_filter_results": "没有符合这些筛选条件的图片",
    "search_failed": "搜索失败：{error}",
    "loading": "正在加载…",
    "file_gone": "文件已不存在",
    "close": "关闭",
    "text": "文字",
    "description": "描述",
    "answers": "回答",
    "details": "详情",
    "no_text": "这张图片中没有发现文字。",
    "no_description": "尚无描述。",
    "no_answers": "还没有人就这张图片提问。",
    "copy_text": "复制文字",
    "copied": "已复制",
    "copied_lines": "已复制 {n} 行",
    "copy_failed": "无法复制：请选中文字后按 Ctrl+C",
    "boxes_hint": "点击一行即可复制；拖动可选择多行。",
    "show_boxes": "文字框",
    "ask": "提问",
    "stop": "停止",
    "ask_placeholder": "就这张图片提问…",
    "ask_all_placeholder": "就你看到过的一切提问…（例如“上周那张发票的总额是多少？”）",
    "thinking": "思考中…（首次提问时需要加载模型）",
    "you": "你",
    "sources": "来源",
    "no_sources": "没有看到过与这个问题相关的内容。",
    "source_label": "来源：",
    "first_seen": "首次发现：",
    "taken": "拍摄时间：",
    "size": "大小：",
    "format": "格式：",
    "files": "文件：",
    "gone": "（已不存在）",
    "sha": "SHA-256：",
    "jobs": "任务：",
    "engine": "引擎",
    "time": "耗时",
    "drop_here": "拖放图片即可索引并提问",
    "uploading": "正在索引 {name}…",
    "uploaded": "已索引 {name}",
    "upload_failed": "{name}：{error}",
    "prev": "上一张",
    "next": "下一张",
    "image_n": "图片 #{id}",
    "timeline_empty": "还没有看到任何图片。",
    "n_images": "{n} 张图片",
    "one_image": "1 张图片",
    "error": "错误：{error}",
    "signed_out": "已退出登录。",
    "login_title": "登录 vlagent",
    "login_lead": "打开“vlagent serve”打印的链接，或粘贴 API 令牌（命令“vlagent api-token”会打印它）。",
    "login_token": "API 令牌",
    "login_button": "登录",
    "login_bad": "链接或令牌无效（登录链接只能使用一次）。请粘贴 API 令牌，或重新启动“vlagent serve”获取新链接。",
    "login_ok": "已登录，正在打开 vlagent…",
    "login_continue": "继续",
    "keys_hint": "/ 搜索 · ←↑→↓ 移动 · Enter 打开 · Esc 关闭",
}

STRINGS = {"en": EN, "zh": ZH}


def negotiate(accept_language: str | None, override: str | None = None) -> str:
    """``en`` or ``zh``: the override when it names one, else the browser's first choice of the two
    (by q-value, then order); English when it names neither."""
    if override:
        base = override.strip().lower().split("-")[0].split("_")[0]
        if base in LANGUAGES:
            return base
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        if base not in LANGUAGES:
            continue
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (-q, i) < (-best[0], best[1])):
            best = (q, i, base)
    return best[2] if best else "en"


def strings(lang: str) -> dict[str, str]:
    return STRINGS.get(lang, EN)
