# GENERATED FILE - DO NOT EDIT.
# Generated from vlagent/settings/declaration.py by `python -m vlagent.settings.viewgen --write`;
# tests/settings/test_views.py fails when it is out of date.
"""Typed, live views of the settings: ``settings.view.vlm.batch_size`` is an ``int``.

One class per section of :data:`~vlagent.settings.declaration.SETTINGS`, one read-only property
per setting; each read goes through ``Settings.get``, so overrides, ``set`` and ``reload`` show
at once. Importing this module checks that it still matches the declaration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

from vlagent.settings.viewbase import SectionView, Signature, check_views

if TYPE_CHECKING:
    from vlagent.settings.store import Settings

# The values of each choice setting.
GeneralLanguage = Literal["auto", "en", "zh"]
OcrEngine = Literal["rapidocr"]
VlmBackend = Literal["transformers", "openai"]
VlmHub = Literal["huggingface", "modelscope"]
VlmDtype = Literal["auto", "bfloat16", "float16", "float32"]
VlmAttnImplementation = Literal["auto", "flash_attention_2", "sdpa", "eager"]
VlmInt8Engine = Literal["auto", "fbgemm", "onednn"]
VlmLightMode = Literal["off", "auto", "on"]
WatchPolling = Literal["auto", "always", "never"]
CaptureBackend = Literal["auto", "mss", "qt", "grim", "portal"]


class GeneralView(SectionView):
    """``general.*`` settings."""

    __slots__ = ()
    section = "general"

    @property
    def language(self) -> GeneralLanguage:
        """Language of prompts and the UI (auto = system locale). Default: 'auto'."""
        return cast(GeneralLanguage, self._settings.get("general.language"))

    @property
    def log_max_bytes(self) -> int:
        """Start a new log file under logs/ when the current one reaches this many bytes. Default: 5242880."""
        return cast(int, self._settings.get("general.log_max_bytes"))

    @property
    def log_backups(self) -> int:
        """Old log files kept for each command. Default: 3."""
        return cast(int, self._settings.get("general.log_backups"))


class IngestView(SectionView):
    """``ingest.*`` settings."""

    __slots__ = ()
    section = "ingest"

    @property
    def extensions(self) -> list[str]:
        """File extensions treated as images in folders (empty: every image type this installation opens, HEIC/AVIF too
        when their Pillow plugins are installed; 'vlagent doctor' lists them). Default: [].
        """
        return cast(list[str], self._settings.get("ingest.extensions"))

    @property
    def max_image_pixels(self) -> int:
        """Refuse images with more pixels than this (decompression-bomb guard). Default: 120000000."""
        return cast(int, self._settings.get("ingest.max_image_pixels"))

    @property
    def max_image_bytes(self) -> int:
        """Refuse image files larger than this many bytes. Default: 209715200."""
        return cast(int, self._settings.get("ingest.max_image_bytes"))

    @property
    def thumbnail_size(self) -> int:
        """Longest side of stored thumbnails, in pixels. Default: 320."""
        return cast(int, self._settings.get("ingest.thumbnail_size"))


class NetView(SectionView):
    """``net.*`` settings."""

    __slots__ = ()
    section = "net"

    @property
    def url_timeout(self) -> float:
        """Timeout in seconds when fetching an image URL. Default: 15.0."""
        return cast(float, self._settings.get("net.url_timeout"))

    @property
    def url_max_bytes(self) -> int:
        """Largest image download accepted, in bytes. Default: 52428800."""
        return cast(int, self._settings.get("net.url_max_bytes"))

    @property
    def allowed_schemes(self) -> list[str]:
        """URL schemes allowed for image inputs. Default: ['http', 'https']."""
        return cast(list[str], self._settings.get("net.allowed_schemes"))

    @property
    def allow_private_urls(self) -> bool:
        """Allow image URLs that point at this machine or private networks. Default: False."""
        return cast(bool, self._settings.get("net.allow_private_urls"))


class OcrView(SectionView):
    """``ocr.*`` settings."""

    __slots__ = ()
    section = "ocr"

    @property
    def enabled(self) -> bool:
        """Run OCR on every indexed image. Default: True."""
        return cast(bool, self._settings.get("ocr.enabled"))

    @property
    def engine(self) -> OcrEngine:
        """OCR engine. Default: 'rapidocr'."""
        return cast(OcrEngine, self._settings.get("ocr.engine"))

    @property
    def min_score(self) -> float:
        """Drop OCR lines with a lower confidence. Default: 0.5."""
        return cast(float, self._settings.get("ocr.min_score"))

    @property
    def threads(self) -> int:
        """OCR workers reading parts of an image in parallel, one CPU thread each (0 = one per core, at most 8).
        Default: 0.
        """
        return cast(int, self._settings.get("ocr.threads"))

    @property
    def det_max_pixels(self) -> int:
        """Pixels the text detector looks at per image: larger images are scaled down to this (tall ones are read in
        bands); fewer is faster but may miss tiny text. Default: 921600.
        """
        return cast(int, self._settings.get("ocr.det_max_pixels"))

    @property
    def idle_unload_s(self) -> float:
        """Unload the OCR models after this many idle seconds (0 = never). Default: 300.0."""
        return cast(float, self._settings.get("ocr.idle_unload_s"))

    @property
    def enhance_low_contrast(self) -> bool:
        """Read low-contrast images a second time with their contrast stretched. Default: True."""
        return cast(bool, self._settings.get("ocr.enhance_low_contrast"))


class VlmView(SectionView):
    """``vlm.*`` settings."""

    __slots__ = ()
    section = "vlm"

    @property
    def backend(self) -> VlmBackend:
        """Where the vision-language model runs. Default: 'transformers'."""
        return cast(VlmBackend, self._settings.get("vlm.backend"))

    @property
    def model(self) -> str:
        """Model id (hub) or local directory. Default: 'Qwen/Qwen2.5-VL-3B-Instruct'."""
        return cast(str, self._settings.get("vlm.model"))

    @property
    def hub(self) -> VlmHub:
        """Hub to pull models from. Default: 'huggingface'."""
        return cast(VlmHub, self._settings.get("vlm.hub"))

    @property
    def dtype(self) -> VlmDtype:
        """Weights dtype (auto = bf16 on CUDA/capable CPU, else float32). Default: 'auto'."""
        return cast(VlmDtype, self._settings.get("vlm.dtype"))

    @property
    def attn_implementation(self) -> VlmAttnImplementation:
        """Attention kernel (auto = flash_attention_2 if usable, else sdpa). Default: 'auto'."""
        return cast(VlmAttnImplementation, self._settings.get("vlm.attn_implementation"))

    @property
    def device(self) -> str:
        """Device: auto, cpu, cuda, cuda:N or mps (Apple silicon). Default: 'auto'."""
        return cast(str, self._settings.get("vlm.device"))

    @property
    def max_new_tokens(self) -> int:
        """Longest generated answer, in tokens. Default: 256."""
        return cast(int, self._settings.get("vlm.max_new_tokens"))

    @property
    def min_pixels(self) -> int:
        """Smallest image area fed to the model, in pixels. Default: 3136."""
        return cast(int, self._settings.get("vlm.min_pixels"))

    @property
    def max_pixels(self) -> int:
        """Largest image area fed to the model (caps visual tokens: one per 28x28 px). Default: 802816."""
        return cast(int, self._settings.get("vlm.max_pixels"))

    @property
    def resized_height(self) -> int:
        """Resize images to this height before the model (0 = keep). Default: 0."""
        return cast(int, self._settings.get("vlm.resized_height"))

    @property
    def resized_width(self) -> int:
        """Resize images to this width before the model (0 = keep). Default: 0."""
        return cast(int, self._settings.get("vlm.resized_width"))

    @property
    def do_sample(self) -> bool:
        """Sample instead of greedy decoding. Default: False."""
        return cast(bool, self._settings.get("vlm.do_sample"))

    @property
    def temperature(self) -> float:
        """Sampling temperature. Default: 0.7."""
        return cast(float, self._settings.get("vlm.temperature"))

    @property
    def top_k(self) -> int:
        """Sampling top-k. Default: 50."""
        return cast(int, self._settings.get("vlm.top_k"))

    @property
    def top_p(self) -> float:
        """Sampling top-p. Default: 0.9."""
        return cast(float, self._settings.get("vlm.top_p"))

    @property
    def repetition_penalty(self) -> float:
        """Repetition penalty. Default: 1.05."""
        return cast(float, self._settings.get("vlm.repetition_penalty"))

    @property
    def batch_size(self) -> int:
        """Images per batch when describing a backlog. Default: 4."""
        return cast(int, self._settings.get("vlm.batch_size"))

    @property
    def cpu_quantize(self) -> bool:
        """On CPU, quantise the language model's linear layers to int8 (much faster decode). Default: True."""
        return cast(bool, self._settings.get("vlm.cpu_quantize"))

    @property
    def int8_engine(self) -> VlmInt8Engine:
        """Kernels for the int8 model: onednn reads prompts ~1.5x faster on CPUs with AMX (decoding ~15% slower) but
        keeps a second copy of the int8 weights (~1 GB per billion parameters); auto = onednn where AMX is present.
        Default: 'auto'.
        """
        return cast(VlmInt8Engine, self._settings.get("vlm.int8_engine"))

    @property
    def threads(self) -> int:
        """CPU threads for the model (0 = all cores but one). Default: 0."""
        return cast(int, self._settings.get("vlm.threads"))

    @property
    def interactive_threads(self) -> int:
        """CPU threads while someone waits for an answer (0 = all cores); background work uses vlm.threads. Default: 0.
        """
        return cast(int, self._settings.get("vlm.interactive_threads"))

    @property
    def prefix_cache_mb(self) -> int:
        """Memory kept for the model's cache of images already read, so follow-up questions start at once (0 = off).
        Default: 1024.
        """
        return cast(int, self._settings.get("vlm.prefix_cache_mb"))

    @property
    def light_mode(self) -> VlmLightMode:
        """Questions about text-heavy screenshots: give the model a smaller image plus the OCR text (auto = when OCR
        found much text). Default: 'off'.
        """
        return cast(VlmLightMode, self._settings.get("vlm.light_mode"))

    @property
    def light_max_pixels(self) -> int:
        """Image area in light mode (one visual token per 28x28 px). Default: 200704."""
        return cast(int, self._settings.get("vlm.light_max_pixels"))

    @property
    def idle_unload_s(self) -> float:
        """Unload the model after this many idle seconds (0 = never). Default: 300.0."""
        return cast(float, self._settings.get("vlm.idle_unload_s"))

    @property
    def describe(self) -> bool:
        """Describe every indexed image in the background. Default: False."""
        return cast(bool, self._settings.get("vlm.describe"))

    @property
    def transcribe(self) -> bool:
        """Also transcribe text with the model (besides OCR). Default: False."""
        return cast(bool, self._settings.get("vlm.transcribe"))

    @property
    def prompt_describe(self) -> str:
        """Description prompt (empty = built-in for the language). Default: ''."""
        return cast(str, self._settings.get("vlm.prompt_describe"))

    @property
    def prompt_ocr(self) -> str:
        """Transcription prompt (empty = built-in for the language). Default: ''."""
        return cast(str, self._settings.get("vlm.prompt_ocr"))

    @property
    def openai_base_url(self) -> str:
        """Base URL of an OpenAI-compatible server (backend = openai). Default: ''."""
        return cast(str, self._settings.get("vlm.openai_base_url"))

    @property
    def openai_api_key(self) -> str:
        """API key for the remote server. Default: (secret)."""
        return cast(str, self._settings.get("vlm.openai_api_key"))

    @property
    def openai_model(self) -> str:
        """Model name on the remote server. Default: ''."""
        return cast(str, self._settings.get("vlm.openai_model"))

    @property
    def openai_concurrency(self) -> int:
        """Parallel requests to the remote server. Default: 4."""
        return cast(int, self._settings.get("vlm.openai_concurrency"))

    @property
    def openai_timeout(self) -> float:
        """Timeout per remote request, in seconds. Default: 120.0."""
        return cast(float, self._settings.get("vlm.openai_timeout"))

    @property
    def openai_retries(self) -> int:
        """Retries per remote request (with backoff). Default: 3."""
        return cast(int, self._settings.get("vlm.openai_retries"))


class MemoryView(SectionView):
    """``memory.*`` settings."""

    __slots__ = ()
    section = "memory"

    @property
    def candidates(self) -> int:
        """Images retrieved for a question over everything seen. Default: 8."""
        return cast(int, self._settings.get("memory.candidates"))

    @property
    def context_tokens(self) -> int:
        """Token budget for the retrieved images' text in the answer's prompt. Default: 1500."""
        return cast(int, self._settings.get("memory.context_tokens"))

    @property
    def images(self) -> int:
        """How many of the best retrieved images the model also sees (0 = text only). Default: 1."""
        return cast(int, self._settings.get("memory.images"))

    @property
    def image_max_pixels(self) -> int:
        """Pixel cap for those images (256 visual tokens by default). Default: 200704."""
        return cast(int, self._settings.get("memory.image_max_pixels"))

    @property
    def answer_tokens(self) -> int:
        """Longest answer to a memory question, in tokens. Default: 256."""
        return cast(int, self._settings.get("memory.answer_tokens"))

    @property
    def rewrite(self) -> bool:
        """Let the model rewrite a question into English and Chinese search words when the literal words find too little
        or the languages differ. Default: True.
        """
        return cast(bool, self._settings.get("memory.rewrite"))

    @property
    def rewrite_tokens(self) -> int:
        """Longest rewrite of a question into search words, in tokens. Default: 32."""
        return cast(int, self._settings.get("memory.rewrite_tokens"))


class WatchView(SectionView):
    """``watch.*`` settings."""

    __slots__ = ()
    section = "watch"

    @property
    def folders(self) -> list[str]:
        """Folders watched for new images. Default: []."""
        return cast(list[str], self._settings.get("watch.folders"))

    @property
    def exclude(self) -> list[str]:
        """Glob patterns of files and folders (ending in /) never indexed. Default: ['*.tmp', '*.part', '*.crdownload',
        '.git/', 'node_modules/', '.cache/'].
        """
        return cast(list[str], self._settings.get("watch.exclude"))

    @property
    def include_hidden(self) -> bool:
        """Index hidden files and folders. Default: False."""
        return cast(bool, self._settings.get("watch.include_hidden"))

    @property
    def settle_s(self) -> float:
        """A file must stay unchanged this long before it is read. Default: 1.0."""
        return cast(float, self._settings.get("watch.settle_s"))

    @property
    def polling(self) -> WatchPolling:
        """Use a polling observer (auto = when inotify is unusable). Default: 'auto'."""
        return cast(WatchPolling, self._settings.get("watch.polling"))

    @property
    def poll_interval_s(self) -> float:
        """Seconds between scans of a folder watched by polling (network mounts, watch limit reached). Default: 5.0."""
        return cast(float, self._settings.get("watch.poll_interval_s"))

    @property
    def keep_gone(self) -> bool:
        """Keep an image's record after its last file is gone (search still shows it). Default: True."""
        return cast(bool, self._settings.get("watch.keep_gone"))


class PrivacyView(SectionView):
    """``privacy.*`` settings."""

    __slots__ = ()
    section = "privacy"

    @property
    def paused(self) -> bool:
        """Pause all watching, capturing and indexing. Default: False."""
        return cast(bool, self._settings.get("privacy.paused"))

    @property
    def excluded_folders(self) -> list[str]:
        """Folders never indexed or captured from. Default: []."""
        return cast(list[str], self._settings.get("privacy.excluded_folders"))

    @property
    def retention_days(self) -> int:
        """Delete results and thumbnails of images whose files are gone after N days (0 = never). Default: 0."""
        return cast(int, self._settings.get("privacy.retention_days"))


class CaptureView(SectionView):
    """``capture.*`` settings."""

    __slots__ = ()
    section = "capture"

    @property
    def hotkey(self) -> str:
        """Global capture hotkey (pynput syntax). Default: '<ctrl>+<shift>+a'."""
        return cast(str, self._settings.get("capture.hotkey"))

    @property
    def keep(self) -> bool:
        """Keep captures (PNG under captures/) and index them. Default: True."""
        return cast(bool, self._settings.get("capture.keep"))

    @property
    def backend(self) -> CaptureBackend:
        """Screen grabber (auto = mss, then Qt, then grim, then the desktop portal). Default: 'auto'."""
        return cast(CaptureBackend, self._settings.get("capture.backend"))


class ApiView(SectionView):
    """``api.*`` settings."""

    __slots__ = ()
    section = "api"

    @property
    def enabled(self) -> bool:
        """Start the local API server with the desktop app. Default: False."""
        return cast(bool, self._settings.get("api.enabled"))

    @property
    def host(self) -> str:
        """Address the API binds to. Default: '127.0.0.1'."""
        return cast(str, self._settings.get("api.host"))

    @property
    def port(self) -> int:
        """Port the API listens on. Default: 8765."""
        return cast(int, self._settings.get("api.port"))

    @property
    def allow_remote(self) -> bool:
        """Allow binding the API to an address other than loopback (other machines can then reach it; the token is still
        required). Default: False.
        """
        return cast(bool, self._settings.get("api.allow_remote"))

    @property
    def max_body_bytes(self) -> int:
        """Largest API request body. Default: 26214400."""
        return cast(int, self._settings.get("api.max_body_bytes"))

    @property
    def max_pending(self) -> int:
        """Model requests the API lets wait for the worker; more are answered 429 (retry later). Default: 32."""
        return cast(int, self._settings.get("api.max_pending"))

    @property
    def header_timeout_s(self) -> float:
        """Seconds a client has to send a whole request head (request line and headers); a slower connection is closed.
        Default: 10.0.
        """
        return cast(float, self._settings.get("api.header_timeout_s"))

    @property
    def body_timeout_s(self) -> float:
        """Seconds a client has to send a request body once its head arrived; a slower connection is closed. Default:
        60.0.
        """
        return cast(float, self._settings.get("api.body_timeout_s"))

    @property
    def keep_alive_s(self) -> float:
        """Seconds an idle connection is kept open between requests. Default: 5.0."""
        return cast(float, self._settings.get("api.keep_alive_s"))

    @property
    def max_connections(self) -> int:
        """Open API connections at most (also kept below the process's file limit); past it, the oldest one waiting for
        a request is closed, or the new one answered 503. Default: 256.
        """
        return cast(int, self._settings.get("api.max_connections"))

    @property
    def max_connections_per_client(self) -> int:
        """Connections one address may hold that have not sent a request with the token; past it, its oldest such
        connection is closed. Default: 64.
        """
        return cast(int, self._settings.get("api.max_connections_per_client"))

    @property
    def index_uploads(self) -> bool:
        """Add the images sent to /v1/describe, /describe-image/ and /v1/vision/completion to the index (off: they are
        described and forgotten). Default: True.
        """
        return cast(bool, self._settings.get("api.index_uploads"))


class McpView(SectionView):
    """``mcp.*`` settings."""

    __slots__ = ()
    section = "mcp"

    @property
    def allow_capture(self) -> bool:
        """Let MCP clients capture the screen (the capture_screen tool of 'vlagent mcp'); off: the tool answers with an
        error saying how to turn it on. Default: False.
        """
        return cast(bool, self._settings.get("mcp.allow_capture"))


class SettingsView:
    """Every section's view: ``settings.view.<section>.<name>``."""

    __slots__ = ("_general", "_ingest", "_net", "_ocr", "_vlm", "_memory", "_watch", "_privacy", "_capture", "_api",
                 "_mcp")

    def __init__(self, settings: Settings) -> None:
        self._general = GeneralView(settings)
        self._ingest = IngestView(settings)
        self._net = NetView(settings)
        self._ocr = OcrView(settings)
        self._vlm = VlmView(settings)
        self._memory = MemoryView(settings)
        self._watch = WatchView(settings)
        self._privacy = PrivacyView(settings)
        self._capture = CaptureView(settings)
        self._api = ApiView(settings)
        self._mcp = McpView(settings)

    @property
    def general(self) -> GeneralView:
        return self._general

    @property
    def ingest(self) -> IngestView:
        return self._ingest

    @property
    def net(self) -> NetView:
        return self._net

    @property
    def ocr(self) -> OcrView:
        return self._ocr

    @property
    def vlm(self) -> VlmView:
        return self._vlm

    @property
    def memory(self) -> MemoryView:
        return self._memory

    @property
    def watch(self) -> WatchView:
        return self._watch

    @property
    def privacy(self) -> PrivacyView:
        return self._privacy

    @property
    def capture(self) -> CaptureView:
        return self._capture

    @property
    def api(self) -> ApiView:
        return self._api

    @property
    def mcp(self) -> McpView:
        return self._mcp


SECTION_VIEWS: tuple[type[SectionView], ...] = (
    GeneralView,
    IngestView,
    NetView,
    OcrView,
    VlmView,
    MemoryView,
    WatchView,
    PrivacyView,
    CaptureView,
    ApiView,
    McpView,
)

# What each field was generated from: its declared type and choices.
FIELDS: dict[str, Signature] = {
    "general.language": ("choice", ("auto", "en", "zh")),
    "general.log_max_bytes": ("int", ()),
    "general.log_backups": ("int", ()),
    "ingest.extensions": ("list", ()),
    "ingest.max_image_pixels": ("int", ()),
    "ingest.max_image_bytes": ("int", ()),
    "ingest.thumbnail_size": ("int", ()),
    "net.url_timeout": ("float", ()),
    "net.url_max_bytes": ("int", ()),
    "net.allowed_schemes": ("list", ()),
    "net.allow_private_urls": ("bool", ()),
    "ocr.enabled": ("bool", ()),
    "ocr.engine": ("choice", ("rapidocr",)),
    "ocr.min_score": ("float", ()),
    "ocr.threads": ("int", ()),
    "ocr.det_max_pixels": ("int", ()),
    "ocr.idle_unload_s": ("float", ()),
    "ocr.enhance_low_contrast": ("bool", ()),
    "vlm.backend": ("choice", ("transformers", "openai")),
    "vlm.model": ("str", ()),
    "vlm.hub": ("choice", ("huggingface", "modelscope")),
    "vlm.dtype": ("choice", ("auto", "bfloat16", "float16", "float32")),
    "vlm.attn_implementation": ("choice", ("auto", "flash_attention_2", "sdpa", "eager")),
    "vlm.device": ("str", ()),
    "vlm.max_new_tokens": ("int", ()),
    "vlm.min_pixels": ("int", ()),
    "vlm.max_pixels": ("int", ()),
    "vlm.resized_height": ("int", ()),
    "vlm.resized_width": ("int", ()),
    "vlm.do_sample": ("bool", ()),
    "vlm.temperature": ("float", ()),
    "vlm.top_k": ("int", ()),
    "vlm.top_p": ("float", ()),
    "vlm.repetition_penalty": ("float", ()),
    "vlm.batch_size": ("int", ()),
    "vlm.cpu_quantize": ("bool", ()),
    "vlm.int8_engine": ("choice", ("auto", "fbgemm", "onednn")),
    "vlm.threads": ("int", ()),
    "vlm.interactive_threads": ("int", ()),
    "vlm.prefix_cache_mb": ("int", ()),
    "vlm.light_mode": ("choice", ("off", "auto", "on")),
    "vlm.light_max_pixels": ("int", ()),
    "vlm.idle_unload_s": ("float", ()),
    "vlm.describe": ("bool", ()),
    "vlm.transcribe": ("bool", ()),
    "vlm.prompt_describe": ("str", ()),
    "vlm.prompt_ocr": ("str", ()),
    "vlm.openai_base_url": ("str", ()),
    "vlm.openai_api_key": ("secret", ()),
    "vlm.openai_model": ("str", ()),
    "vlm.openai_concurrency": ("int", ()),
    "vlm.openai_timeout": ("float", ()),
    "vlm.openai_retries": ("int", ()),
    "memory.candidates": ("int", ()),
    "memory.context_tokens": ("int", ()),
    "memory.images": ("int", ()),
    "memory.image_max_pixels": ("int", ()),
    "memory.answer_tokens": ("int", ()),
    "memory.rewrite": ("bool", ()),
    "memory.rewrite_tokens": ("int", ()),
    "watch.folders": ("list", ()),
    "watch.exclude": ("list", ()),
    "watch.include_hidden": ("bool", ()),
    "watch.settle_s": ("float", ()),
    "watch.polling": ("choice", ("auto", "always", "never")),
    "watch.poll_interval_s": ("float", ()),
    "watch.keep_gone": ("bool", ()),
    "privacy.paused": ("bool", ()),
    "privacy.excluded_folders": ("list", ()),
    "privacy.retention_days": ("int", ()),
    "capture.hotkey": ("str", ()),
    "capture.keep": ("bool", ()),
    "capture.backend": ("choice", ("auto", "mss", "qt", "grim", "portal")),
    "api.enabled": ("bool", ()),
    "api.host": ("str", ()),
    "api.port": ("int", ()),
    "api.allow_remote": ("bool", ()),
    "api.max_body_bytes": ("int", ()),
    "api.max_pending": ("int", ()),
    "api.header_timeout_s": ("float", ()),
    "api.body_timeout_s": ("float", ()),
    "api.keep_alive_s": ("float", ()),
    "api.max_connections": ("int", ()),
    "api.max_connections_per_client": ("int", ()),
    "api.index_uploads": ("bool", ()),
    "mcp.allow_capture": ("bool", ()),
}

check_views(SECTION_VIEWS, FIELDS)
