"""The one declaration of every user setting.

The config file (``config.toml``), the CLI flags (``--vlm-model`` …) and the GUI
settings dialog are all derived from :data:`SETTINGS`; nothing else lists settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: "<section>.<name>"
    type: str  # "str" | "int" | "float" | "bool" | "list" | "choice" | "path" | "secret"
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # Commands whose CLI gets a flag for this setting: "model" = every command that runs the VLM.
    cli: tuple[str, ...] = ()
    # Label shown in the settings dialog (English; translated in the GUI).
    label: str = ""
    restart: bool = False  # True when a change only applies after a restart
    # Settings-dialog hints: {"widget": "folders"|"folder"|"multiline"}.
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def flag(self) -> str:
        return "--" + self.key.replace(".", "-").replace("_", "-")

    @property
    def dest(self) -> str:
        return "set_" + self.key.replace(".", "__")


MODEL_CMDS = ("model",)  # expanded by the CLI to index, describe, ask, watch, serve, capture, gui, eval, mcp

SETTINGS: list[Setting] = [
    # --- general -------------------------------------------------------------------------
    Setting("general.language", "choice", "auto", "Language of prompts and the UI (auto = system locale)",
            choices=("auto", "en", "zh"), label="Language", cli=MODEL_CMDS),
    Setting("general.log_max_bytes", "int", 5 * 1024 * 1024,
            "Start a new log file under logs/ when the current one reaches this many bytes", minimum=1024,
            label="Log file size limit"),
    Setting("general.log_backups", "int", 3, "Old log files kept for each command", minimum=1,
            label="Log files kept"),
    # --- ingest / images -----------------------------------------------------------------
    Setting("ingest.extensions", "list", [],
            "File extensions treated as images in folders (empty: every image type this installation "
            "opens, HEIC/AVIF too when their Pillow plugins are installed; 'vlagent doctor' lists them)",
            label="Image extensions"),
    Setting("ingest.max_image_pixels", "int", 120_000_000,
            "Refuse images with more pixels than this (decompression-bomb guard)", minimum=1,
            label="Max image pixels"),
    Setting("ingest.max_image_bytes", "int", 200 * 1024 * 1024, "Refuse image files larger than this many bytes",
            minimum=1, label="Max image bytes"),
    Setting("ingest.thumbnail_size", "int", 320, "Longest side of stored thumbnails, in pixels",
            minimum=32, maximum=1024, label="Thumbnail size"),
    # --- network (URL inputs) ------------------------------------------------------------
    Setting("net.url_timeout", "float", 15.0, "Timeout in seconds when fetching an image URL", minimum=0.1,
            label="URL timeout (s)"),
    Setting("net.url_max_bytes", "int", 50 * 1024 * 1024, "Largest image download accepted, in bytes",
            minimum=1, label="URL size cap"),
    Setting("net.allowed_schemes", "list", ["http", "https"], "URL schemes allowed for image inputs",
            label="Allowed URL schemes"),
    Setting("net.allow_private_urls", "bool", False,
            "Allow image URLs that point at this machine or private networks", label="Allow private URLs"),
    # --- OCR -----------------------------------------------------------------------------
    Setting("ocr.enabled", "bool", True, "Run OCR on every indexed image", label="OCR enabled"),
    Setting("ocr.engine", "choice", "rapidocr", "OCR engine", choices=("rapidocr",), label="OCR engine"),
    Setting("ocr.min_score", "float", 0.5, "Drop OCR lines with a lower confidence", minimum=0.0, maximum=1.0,
            label="Min OCR confidence"),
    Setting("ocr.threads", "int", 0,
            "OCR workers reading parts of an image in parallel, one CPU thread each "
            "(0 = one per core, at most 8)", minimum=0, label="OCR threads"),
    Setting("ocr.det_max_pixels", "int", 1280 * 720,
            "Pixels the text detector looks at per image: larger images are scaled down to this "
            "(tall ones are read in bands); fewer is faster but may miss tiny text",
            minimum=64 * 64, label="OCR detector pixels"),
    Setting("ocr.idle_unload_s", "float", 300.0,
            "Unload the OCR models after this many idle seconds (0 = never)", minimum=0.0,
            label="Unload OCR after idle (s)"),
    Setting("ocr.enhance_low_contrast", "bool", True,
            "Read low-contrast images a second time with their contrast stretched",
            label="Enhance low-contrast text"),
    # --- VLM -----------------------------------------------------------------------------
    Setting("vlm.backend", "choice", "transformers", "Where the vision-language model runs",
            choices=("transformers", "openai"), cli=MODEL_CMDS, label="Backend"),
    Setting("vlm.model", "str", "Qwen/Qwen2.5-VL-3B-Instruct", "Model id (hub) or local directory",
            cli=MODEL_CMDS, label="Model", meta={"widget": "folder"}),
    Setting("vlm.hub", "choice", "huggingface", "Hub to pull models from",
            choices=("huggingface", "modelscope"), label="Model hub"),
    Setting("vlm.dtype", "choice", "auto", "Weights dtype (auto = bf16 on CUDA/capable CPU, else float32)",
            choices=("auto", "bfloat16", "float16", "float32"), cli=MODEL_CMDS, label="Dtype"),
    Setting("vlm.attn_implementation", "choice", "auto",
            "Attention kernel (auto = flash_attention_2 if usable, else sdpa)",
            choices=("auto", "flash_attention_2", "sdpa", "eager"), cli=MODEL_CMDS, label="Attention"),
    Setting("vlm.device", "str", "auto", "Device: auto, cpu, cuda, cuda:N or mps (Apple silicon)", cli=MODEL_CMDS,
            label="Device"),
    Setting("vlm.max_new_tokens", "int", 256, "Longest generated answer, in tokens", minimum=1,
            cli=MODEL_CMDS, label="Max new tokens"),
    Setting("vlm.min_pixels", "int", 4 * 28 * 28, "Smallest image area fed to the model, in pixels", minimum=1,
            cli=MODEL_CMDS, label="Min pixels"),
    Setting("vlm.max_pixels", "int", 1024 * 28 * 28,
            "Largest image area fed to the model (caps visual tokens: one per 28x28 px)", minimum=1,
            cli=MODEL_CMDS, label="Max pixels"),
    Setting("vlm.resized_height", "int", 0, "Resize images to this height before the model (0 = keep)",
            minimum=0, cli=MODEL_CMDS, label="Resized height"),
    Setting("vlm.resized_width", "int", 0, "Resize images to this width before the model (0 = keep)",
            minimum=0, cli=MODEL_CMDS, label="Resized width"),
    Setting("vlm.do_sample", "bool", False, "Sample instead of greedy decoding", cli=MODEL_CMDS, label="Sample"),
    Setting("vlm.temperature", "float", 0.7, "Sampling temperature", minimum=0.0, cli=MODEL_CMDS,
            label="Temperature"),
    Setting("vlm.top_k", "int", 50, "Sampling top-k", minimum=0, cli=MODEL_CMDS, label="Top-k"),
    Setting("vlm.top_p", "float", 0.9, "Sampling top-p", minimum=0.0, maximum=1.0, cli=MODEL_CMDS, label="Top-p"),
    Setting("vlm.repetition_penalty", "float", 1.05, "Repetition penalty", minimum=0.0, cli=MODEL_CMDS,
            label="Repetition penalty"),
    Setting("vlm.batch_size", "int", 4, "Images per batch when describing a backlog", minimum=1,
            cli=MODEL_CMDS, label="Batch size"),
    Setting("vlm.cpu_quantize", "bool", True,
            "On CPU, quantise the language model's linear layers to int8 (much faster decode)",
            cli=MODEL_CMDS, label="CPU int8 quantisation"),
    Setting("vlm.int8_engine", "choice", "auto",
            "Kernels for the int8 model: onednn reads prompts ~1.5x faster on CPUs with AMX (decoding ~15% "
            "slower) but keeps a second copy of the int8 weights (~1 GB per billion parameters); auto = onednn "
            "where AMX is present",
            choices=("auto", "fbgemm", "onednn"), cli=MODEL_CMDS, label="int8 kernels"),
    Setting("vlm.threads", "int", 0, "CPU threads for the model (0 = all cores but one)", minimum=0,
            cli=MODEL_CMDS, label="Model threads"),
    Setting("vlm.interactive_threads", "int", 0,
            "CPU threads while someone waits for an answer (0 = all cores); background work uses vlm.threads",
            minimum=0, cli=MODEL_CMDS, label="Threads for questions"),
    Setting("vlm.prefix_cache_mb", "int", 1024,
            "Memory kept for the model's cache of images already read, so follow-up questions start at once "
            "(0 = off)", minimum=0, cli=MODEL_CMDS, label="Image cache (MB)"),
    Setting("vlm.light_mode", "choice", "off",
            "Questions about text-heavy screenshots: give the model a smaller image plus the OCR text "
            "(auto = when OCR found much text)", choices=("off", "auto", "on"), cli=MODEL_CMDS,
            label="Light mode for text"),
    Setting("vlm.light_max_pixels", "int", 256 * 28 * 28,
            "Image area in light mode (one visual token per 28x28 px)", minimum=1, cli=MODEL_CMDS,
            label="Light mode max pixels"),
    Setting("vlm.idle_unload_s", "float", 300.0, "Unload the model after this many idle seconds (0 = never)",
            minimum=0.0, label="Unload after idle (s)"),
    Setting("vlm.describe", "bool", False, "Describe every indexed image in the background", label="Describe images"),
    Setting("vlm.transcribe", "bool", False, "Also transcribe text with the model (besides OCR)",
            label="Transcribe with the model"),
    Setting("vlm.prompt_describe", "str", "", "Description prompt (empty = built-in for the language)",
            label="Description prompt", meta={"widget": "multiline"}),
    Setting("vlm.prompt_ocr", "str", "", "Transcription prompt (empty = built-in for the language)",
            label="Transcription prompt", meta={"widget": "multiline"}),
    Setting("vlm.openai_base_url", "str", "", "Base URL of an OpenAI-compatible server (backend = openai)",
            cli=MODEL_CMDS, label="Remote base URL"),
    Setting("vlm.openai_api_key", "secret", "", "API key for the remote server", label="Remote API key"),
    Setting("vlm.openai_model", "str", "", "Model name on the remote server", cli=MODEL_CMDS,
            label="Remote model"),
    Setting("vlm.openai_concurrency", "int", 4, "Parallel requests to the remote server", minimum=1,
            label="Remote concurrency"),
    Setting("vlm.openai_timeout", "float", 120.0, "Timeout per remote request, in seconds", minimum=0.1,
            label="Remote timeout (s)"),
    Setting("vlm.openai_retries", "int", 3, "Retries per remote request (with backoff)", minimum=0,
            label="Remote retries"),
    # --- memory (questions over everything seen) -----------------------------------------
    Setting("memory.candidates", "int", 8, "Images retrieved for a question over everything seen", minimum=1,
            maximum=50, label="Memory: images retrieved"),
    Setting("memory.context_tokens", "int", 1500,
            "Token budget for the retrieved images' text in the answer's prompt", minimum=100,
            label="Memory: text budget (tokens)"),
    Setting("memory.images", "int", 1, "How many of the best retrieved images the model also sees (0 = text only)",
            minimum=0, maximum=3, label="Memory: images shown to the model"),
    Setting("memory.image_max_pixels", "int", 256 * 28 * 28,
            "Pixel cap for those images (256 visual tokens by default)", minimum=28 * 28,
            label="Memory: image pixel cap"),
    Setting("memory.answer_tokens", "int", 256, "Longest answer to a memory question, in tokens", minimum=1,
            label="Memory: answer length"),
    Setting("memory.rewrite", "bool", True,
            "Let the model rewrite a question into English and Chinese search words when the literal words "
            "find too little or the languages differ", label="Memory: cross-lingual rewrite"),
    Setting("memory.rewrite_tokens", "int", 32, "Longest rewrite of a question into search words, in tokens",
            minimum=4, label="Memory: rewrite length"),
    # --- watching ------------------------------------------------------------------------
    Setting("watch.folders", "list", [], "Folders watched for new images", label="Watched folders",
            meta={"widget": "folders"}),
    Setting("watch.exclude", "list", ["*.tmp", "*.part", "*.crdownload", ".git/", "node_modules/", ".cache/"],
            "Glob patterns of files and folders (ending in /) never indexed", label="Excluded patterns"),
    Setting("watch.include_hidden", "bool", False, "Index hidden files and folders", label="Include hidden"),
    Setting("watch.settle_s", "float", 1.0, "A file must stay unchanged this long before it is read",
            minimum=0.0, label="Settle time (s)"),
    Setting("watch.polling", "choice", "auto", "Use a polling observer (auto = when inotify is unusable)",
            choices=("auto", "always", "never"), label="Polling"),
    Setting("watch.poll_interval_s", "float", 5.0,
            "Seconds between scans of a folder watched by polling (network mounts, watch limit reached)",
            minimum=0.1, label="Polling interval (s)"),
    Setting("watch.keep_gone", "bool", True,
            "Keep an image's record after its last file is gone (search still shows it)", label="Keep gone images"),
    # --- privacy -------------------------------------------------------------------------
    Setting("privacy.paused", "bool", False, "Pause all watching, capturing and indexing", label="Paused"),
    Setting("privacy.excluded_folders", "list", [], "Folders never indexed or captured from",
            label="Excluded folders", meta={"widget": "folders"}),
    Setting("privacy.retention_days", "int", 0,
            "Delete results and thumbnails of images whose files are gone after N days (0 = never)",
            minimum=0, label="Retention (days)"),
    # --- capture -------------------------------------------------------------------------
    Setting("capture.hotkey", "str", "<ctrl>+<shift>+a", "Global capture hotkey (pynput syntax)",
            label="Capture hotkey"),
    Setting("capture.keep", "bool", True, "Keep captures (PNG under captures/) and index them",
            cli=("capture",), label="Keep captures"),
    Setting("capture.backend", "choice", "auto",
            "Screen grabber (auto = mss, then Qt, then grim, then the desktop portal)",
            choices=("auto", "mss", "qt", "grim", "portal"), cli=("capture",), label="Capture backend"),
    # --- API -----------------------------------------------------------------------------
    Setting("api.enabled", "bool", False, "Start the local API server with the desktop app", label="API enabled"),
    Setting("api.host", "str", "127.0.0.1", "Address the API binds to", label="API host"),
    Setting("api.port", "int", 8765, "Port the API listens on", minimum=1, maximum=65535, label="API port"),
    Setting("api.allow_remote", "bool", False,
            "Allow binding the API to an address other than loopback (other machines can then reach it; "
            "the token is still required)", label="Allow remote API clients"),
    Setting("api.max_body_bytes", "int", 25 * 1024 * 1024, "Largest API request body", minimum=1024,
            label="API body limit"),
    Setting("api.max_pending", "int", 32,
            "Model requests the API lets wait for the worker; more are answered 429 (retry later)", minimum=1,
            label="API queue limit"),
    Setting("api.header_timeout_s", "float", 10.0,
            "Seconds a client has to send a whole request head (request line and headers); a slower "
            "connection is closed", minimum=0.1, label="API request head timeout"),
    Setting("api.body_timeout_s", "float", 60.0,
            "Seconds a client has to send a request body once its head arrived; a slower connection is closed",
            minimum=0.1, label="API request body timeout"),
    Setting("api.keep_alive_s", "float", 5.0,
            "Seconds an idle connection is kept open between requests", minimum=0.1, label="API keep-alive"),
    Setting("api.max_connections", "int", 256,
            "Open API connections at most (also kept below the process's file limit); past it, the oldest "
            "one waiting for a request is closed, or the new one answered 503", minimum=2,
            label="API connection limit"),
    Setting("api.max_connections_per_client", "int", 64,
            "Connections one address may hold that have not sent a request with the token; past it, its "
            "oldest such connection is closed", minimum=1, label="API connections per client"),
    Setting("api.index_uploads", "bool", True,
            "Add the images sent to /v1/describe, /describe-image/ and /v1/vision/completion to the index "
            "(off: they are described and forgotten)", cli=("serve",), label="API: index described images"),
    # --- MCP (vlagent mcp) ---------------------------------------------------------------
    Setting("mcp.allow_capture", "bool", False,
            "Let MCP clients capture the screen (the capture_screen tool of 'vlagent mcp'); off: the tool "
            "answers with an error saying how to turn it on", cli=("mcp",), label="MCP: allow screen capture"),
]

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def sections() -> list[str]:
    seen: list[str] = []
    for s in SETTINGS:
        if s.section not in seen:
            seen.append(s.section)
    return seen
