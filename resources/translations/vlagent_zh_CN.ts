<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AgentBridge</name>
    <message>
        <source>The background worker is not running: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>still starting</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AskPanel</name>
    <message>
        <source>Ask anything about this image: “what does the error say?”, “translate the text”, “what breed is the dog?”. Answers are saved with the image and become searchable.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask about this image…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Thinking… (the model loads on the first question)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>vlagent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Questions need the background worker and a model.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <source>Capture screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture region</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;vlagent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The background worker stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the background worker is off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search only: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Indexing: {n} left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · {n} waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · model loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not process an image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another vlagent process will read its text.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text: {text}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No text found in the capture.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answer ready</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DetailPane</name>
    <message>
        <source>Select an image to see its text, its description and to ask about it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No text was found in this image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No description yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>When</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Forget…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove this image from the index (its files stay on disk)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>seen {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>file gone since {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  (gone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Descriptions need the background worker and a model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A description is queued…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last attempt failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Screenshot</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Imported</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Source:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First seen:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Taken:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SHA-256:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OCR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transcription</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The file is gone and there is no thumbnail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read the image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Forget this image?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Its text, description, answers and thumbnail are removed from the index. The file itself stays where it is.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ListField</name>
    <message>
        <source>Add folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New entry:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SearchWindow</name>
    <message>
        <source>vlagent — search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search text in images, descriptions, answers, file names…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All sources</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Screenshots</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Imported</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Any time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Today</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last year</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Best match</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Newest first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sort</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>file gone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Screenshot</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose folders to watch…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1 result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{n} results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{n}+ results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Nothing indexed yet&lt;/h3&gt;&lt;p&gt;Choose folders to watch, or capture the screen: everything vlagent sees becomes searchable here.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;No results for “{query}”&lt;/h3&gt;&lt;p&gt;Try fewer words, or other filters.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;No images match these filters&lt;/h3&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only images under this folder</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingFields</name>
    <message>
        <source>Automatic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Always</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Never</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System language</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language of prompts and the UI (auto = system locale)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image extensions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File extensions treated as images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max image pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refuse images with more pixels than this (decompression-bomb guard)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max image bytes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refuse image files larger than this many bytes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Thumbnail size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Longest side of stored thumbnails, in pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>URL timeout (s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Timeout in seconds when fetching an image URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>URL size cap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest image download accepted, in bytes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allowed URL schemes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>URL schemes allowed for image inputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow private URLs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow image URLs that point at this machine or private networks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OCR enabled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run OCR on every indexed image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OCR engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Min OCR confidence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop OCR lines with a lower confidence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OCR threads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU threads for OCR (0 = all cores)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where the vision-language model runs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model id (hub) or local directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model hub</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub to pull models from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weights dtype (auto = bf16 on CUDA/capable CPU, else float32)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attention kernel (auto = flash_attention_2 if usable, else sdpa)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device: auto, cpu, cuda or cuda:N</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Longest generated answer, in tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Min pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Smallest image area fed to the model, in pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest image area fed to the model (caps visual tokens: one per 28x28 px)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resized height</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resize images to this height before the model (0 = keep)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resized width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resize images to this width before the model (0 = keep)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sample</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sample instead of greedy decoding</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampling temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampling top-k</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampling top-p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images per batch when describing a backlog</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU int8 quantisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>On CPU, quantise the language model&apos;s linear layers to int8 (much faster decode)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model threads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU threads for the model (0 = torch default)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unload after idle (s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unload the model after this many idle seconds (0 = never)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe every indexed image in the background</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transcribe with the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also transcribe text with the model (besides OCR)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description prompt (empty = built-in for the language)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transcription prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transcription prompt (empty = built-in for the language)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote base URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Base URL of an OpenAI-compatible server (backend = openai)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote API key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API key for the remote server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model name on the remote server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote concurrency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parallel requests to the remote server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote timeout (s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Timeout per remote request, in seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote retries</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retries per remote request (with backoff)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folders watched for new images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Excluded patterns</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Glob patterns of files and folders (ending in /) never indexed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Include hidden</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Index hidden files and folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settle time (s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A file must stay unchanged this long before it is read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Polling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use a polling observer (auto = when inotify is unusable)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep gone images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep an image&apos;s record after its last file is gone (search still shows it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pause all watching, capturing and indexing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Excluded folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folders never indexed or captured from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retention (days)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete results and thumbnails of images whose files are gone after N days (0 = never)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture hotkey</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Global capture hotkey (pynput syntax)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep captures</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep captures (PNG under captures/) and index them</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API enabled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start the local API server with the desktop app</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API host</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Address the API binds to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API port</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Port the API listens on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API body limit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Largest API request body</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>vlagent settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>General</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Privacy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OCR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Network</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Put this tab&apos;s settings back to their defaults (saved with OK or Apply)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(applies after a restart)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The index, thumbnails, captures and models live here. To use another folder, start vlagent with --home DIR or set the VLAGENT_HOME environment variable.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pull model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Downloading models is not available in this installation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download the model above from the chosen hub into the data folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting to {hub}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved. Some changes apply after vlagent restarts.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TextField</name>
    <message>
        <source>(empty: the built-in default)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
