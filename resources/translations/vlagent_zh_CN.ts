<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AgentBridge</name>
    <message>
        <source>The background worker is not running: {reason}</source>
        <translation>后台工作进程未运行：{reason}</translation>
    </message>
    <message>
        <source>still starting</source>
        <translation>仍在启动</translation>
    </message>
</context>
<context>
    <name>AskAllPanel</name>
    <message>
        <source>Ask about everything you have seen: “what was the total on the invoice last week?”, “which error did the build show on Monday?”. The answer cites the images it used; click one to open it.</source>
        <translation>就你看过的所有内容提问：“上周那张发票的总额是多少？”“周一构建报了什么错？”。回答会标注用到的图片，点击即可打开。</translation>
    </message>
    <message>
        <source>Sources</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Ask about everything you have seen…</source>
        <translation>就你看过的所有内容提问…</translation>
    </message>
    <message>
        <source>Ask all</source>
        <translation>全部提问</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Searching everything you have seen, then answering… (the model loads on the first question)</source>
        <translation>正在搜索你看过的所有内容，然后回答…（首次提问时需要加载模型）</translation>
    </message>
    <message>
        <source>Searching everything you have seen…</source>
        <translation>正在搜索你看过的所有内容…</translation>
    </message>
    <message>
        <source>There is no model to answer with (it needs the background worker and a model); these images match the question.</source>
        <translation>没有可用于回答的模型（需要后台工作进程和模型）；以下图片与问题相符。</translation>
    </message>
    <message>
        <source>Nothing matches this question.</source>
        <translation>没有与这个问题相符的内容。</translation>
    </message>
    <message>
        <source>Could not answer: {error}</source>
        <translation>无法回答：{error}</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>vlagent</source>
        <translation>vlagent</translation>
    </message>
    <message>
        <source>Sources: {cited} cited, {n} searched — click one to open it</source>
        <translation>来源：引用 {cited} 张，检索 {n} 张——点击打开</translation>
    </message>
    <message>
        <source>Matching images — click one to open it</source>
        <translation>相符的图片——点击打开</translation>
    </message>
</context>
<context>
    <name>AskPanel</name>
    <message>
        <source>Ask anything about this image: “what does the error say?”, “translate the text”, “what breed is the dog?”. Answers are saved with the image and become searchable.</source>
        <translation>就这张图片提任何问题：“这个报错是什么意思？”“翻译图中的文字”“这是什么品种的狗？”。回答会和图片一起保存，并且可以被搜索到。</translation>
    </message>
    <message>
        <source>Ask about this image…</source>
        <translation>就这张图片提问…</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>提问</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Thinking… (the model loads on the first question)</source>
        <translation>思考中…（首次提问时需要加载模型）</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>vlagent</source>
        <translation>vlagent</translation>
    </message>
    <message>
        <source>Questions need the background worker and a model.</source>
        <translation>提问需要后台工作进程和模型。</translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <source>Capture screen</source>
        <translation>截取屏幕</translation>
    </message>
    <message>
        <source>Capture region</source>
        <translation>截取区域</translation>
    </message>
    <message>
        <source>Search…</source>
        <translation>搜索…</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Show logs</source>
        <translation>查看日志</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Capture failed</source>
        <translation>截图失败</translation>
    </message>
    <message>
        <source>&amp;vlagent</source>
        <translation>vlagent(&amp;V)</translation>
    </message>
    <message>
        <source>The background worker stopped</source>
        <translation>后台工作进程已停止</translation>
    </message>
    <message>
        <source>The model could not be loaded</source>
        <translation>无法加载模型</translation>
    </message>
    <message>
        <source>{model}: check Settings → Model, or pull it first.</source>
        <translation>{model}：请检查“设置 → 模型”，或先下载该模型。</translation>
    </message>
    <message>
        <source>the background worker is off</source>
        <translation>后台工作进程未开启</translation>
    </message>
    <message>
        <source>Search only: {reason}</source>
        <translation>仅搜索：{reason}</translation>
    </message>
    <message>
        <source>Error: {error}</source>
        <translation>错误：{error}</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Indexing: {n} left</source>
        <translation>正在索引：剩余 {n} 项</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source> · {n} waiting</source>
        <translation> · {n} 项等待中</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source> · model loaded</source>
        <translation> · 模型已加载</translation>
    </message>
    <message>
        <source>Could not process an image</source>
        <translation>无法处理一张图片</translation>
    </message>
    <message>
        <source>Capture saved</source>
        <translation>截图已保存</translation>
    </message>
    <message>
        <source>Another vlagent process will read its text.</source>
        <translation>另一个 vlagent 进程会识别其中的文字。</translation>
    </message>
    <message>
        <source>Text: {text}</source>
        <translation>文字：{text}</translation>
    </message>
    <message>
        <source>No text found in the capture.</source>
        <translation>截图中没有发现文字。</translation>
    </message>
    <message>
        <source>Answer ready</source>
        <translation>回答已生成</translation>
    </message>
</context>
<context>
    <name>DetailPane</name>
    <message>
        <source>Select an image to see its text, its description and to ask about it.</source>
        <translation>选择一张图片，查看其中的文字和描述，或就它提问。</translation>
    </message>
    <message>
        <source>No text was found in this image.</source>
        <translation>这张图片中没有发现文字。</translation>
    </message>
    <message>
        <source>Copy text</source>
        <translation>复制文字</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文字</translation>
    </message>
    <message>
        <source>No description yet.</source>
        <translation>尚无描述。</translation>
    </message>
    <message>
        <source>Describe again</source>
        <translation>重新描述</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Files</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>耗时</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Forget…</source>
        <translation>遗忘…</translation>
    </message>
    <message>
        <source>Remove this image from the index (its files stay on disk)</source>
        <translation>从索引中移除这张图片（文件本身保留在磁盘上）</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>提问</translation>
    </message>
    <message>
        <source>Copied 1 line</source>
        <translation>已复制 1 行</translation>
    </message>
    <message>
        <source>Copied {n} lines</source>
        <translation>已复制 {n} 行</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>seen {when}</source>
        <translation>发现于 {when}</translation>
    </message>
    <message>
        <source>file gone since {when}</source>
        <translation>文件自 {when} 起已不存在</translation>
    </message>
    <message>
        <source>  (gone)</source>
        <translation>  （已不存在）</translation>
    </message>
    <message>
        <source>Descriptions need the background worker and a model.</source>
        <translation>生成描述需要后台工作进程和模型。</translation>
    </message>
    <message>
        <source>A description is queued…</source>
        <translation>描述任务已排队…</translation>
    </message>
    <message>
        <source>Last attempt failed: {error}</source>
        <translation>上次尝试失败：{error}</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Screenshot</source>
        <translation>截图</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>API</source>
        <translation>API</translation>
    </message>
    <message>
        <source>Web page</source>
        <translation>网页</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>First seen:</source>
        <translation>首次发现：</translation>
    </message>
    <message>
        <source>Taken:</source>
        <translation>拍摄时间：</translation>
    </message>
    <message>
        <source>SHA-256:</source>
        <translation>SHA-256：</translation>
    </message>
    <message>
        <source>OCR</source>
        <translation>OCR</translation>
    </message>
    <message>
        <source>Transcription</source>
        <translation>模型转写</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>回答</translation>
    </message>
    <message>
        <source>The file is gone and there is no thumbnail.</source>
        <translation>文件已不存在，也没有缩略图。</translation>
    </message>
    <message>
        <source>Cannot read the image.</source>
        <translation>无法读取图片。</translation>
    </message>
    <message>
        <source>Forget this image?</source>
        <translation>遗忘这张图片？</translation>
    </message>
    <message>
        <source>Its text, description, answers and thumbnail are removed from the index. The file itself stays where it is.</source>
        <translation>它的文字、描述、回答和缩略图将从索引中删除。文件本身保留在原处。</translation>
    </message>
</context>
<context>
    <name>ImageView</name>
    <message>
        <source>Click a line of text to copy it, drag across lines to copy several. Scroll to zoom, drag to move, double-click for 100 % or to fit</source>
        <translation>单击一行文字即可复制，拖动框选多行可一起复制。滚轮缩放，拖动移动，双击在 100% 与适应窗口之间切换</translation>
    </message>
</context>
<context>
    <name>ListField</name>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>New entry:</source>
        <translation>新条目：</translation>
    </message>
</context>
<context>
    <name>SearchWindow</name>
    <message>
        <source>vlagent — search</source>
        <translation>vlagent — 搜索</translation>
    </message>
    <message>
        <source>Search text in images, descriptions, answers, file names…</source>
        <translation>搜索图片中的文字、描述、回答、文件名…</translation>
    </message>
    <message>
        <source>List</source>
        <translation>列表</translation>
    </message>
    <message>
        <source>Search results (Ctrl+1)</source>
        <translation>搜索结果（Ctrl+1）</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>时间线</translation>
    </message>
    <message>
        <source>Everything seen, by day (Ctrl+2)</source>
        <translation>看过的所有图片，按天排列（Ctrl+2）</translation>
    </message>
    <message>
        <source>Ask all</source>
        <translation>全部提问</translation>
    </message>
    <message>
        <source>Ask a question about everything seen (Ctrl+3)</source>
        <translation>就看过的所有内容提问（Ctrl+3）</translation>
    </message>
    <message>
        <source>All sources</source>
        <translation>全部来源</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Screenshots</source>
        <translation>截图</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>API</source>
        <translation>API</translation>
    </message>
    <message>
        <source>Web page</source>
        <translation>网页</translation>
    </message>
    <message>
        <source>Any time</source>
        <translation>任何时间</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Last year</source>
        <translation>最近一年</translation>
    </message>
    <message>
        <source>Best match</source>
        <translation>最相关</translation>
    </message>
    <message>
        <source>Newest first</source>
        <translation>最新优先</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Seen</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Sort</source>
        <translation>排序</translation>
    </message>
    <message>
        <source>file gone</source>
        <translation>文件已不存在</translation>
    </message>
    <message>
        <source>Screenshot</source>
        <translation>截图</translation>
    </message>
    <message>
        <source>Choose folders to watch…</source>
        <translation>选择要监视的文件夹…</translation>
    </message>
    <message>
        <source>There is no image on the clipboard.</source>
        <translation>剪贴板上没有图片。</translation>
    </message>
    <message>
        <source>Adding 1 image…</source>
        <translation>正在添加 1 张图片…</translation>
    </message>
    <message>
        <source>Adding {n} images…</source>
        <translation>正在添加 {n} 张图片…</translation>
    </message>
    <message>
        <source>Adding the pasted image…</source>
        <translation>正在添加粘贴的图片…</translation>
    </message>
    <message>
        <source>the image</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>Could not add {name}: {error}</source>
        <translation>无法添加 {name}：{error}</translation>
    </message>
    <message>
        <source>Added 1 image: ask about it below</source>
        <translation>已添加 1 张图片：可在下方就它提问</translation>
    </message>
    <message>
        <source>Added {n} images: ask about the first below</source>
        <translation>已添加 {n} 张图片：可在下方就第一张提问</translation>
    </message>
    <message>
        <source>Could not add the image: {error}</source>
        <translation>无法添加图片：{error}</translation>
    </message>
    <message>
        <source>All folders</source>
        <translation>全部文件夹</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>Search failed: {error}</source>
        <translation>搜索失败：{error}</translation>
    </message>
    <message>
        <source>Most recent</source>
        <translation>最近的图片</translation>
    </message>
    <message>
        <source>1 result</source>
        <translation>1 个结果</translation>
    </message>
    <message>
        <source>{n} results</source>
        <translation>{n} 个结果</translation>
    </message>
    <message>
        <source>{n}+ results</source>
        <translation>{n}+ 个结果</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Nothing indexed yet&lt;/h3&gt;&lt;p&gt;Choose folders to watch, or capture the screen: everything vlagent sees becomes searchable here.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;还没有索引任何图片&lt;/h3&gt;&lt;p&gt;选择要监视的文件夹，或截取屏幕：vlagent 看到的一切都能在这里搜索。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;No results for “{query}”&lt;/h3&gt;&lt;p&gt;Try fewer words, or other filters.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;没有找到“{query}”&lt;/h3&gt;&lt;p&gt;试试更少的词，或换个筛选条件。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;No images match these filters&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;没有符合这些筛选条件的图片&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>Only images under this folder</source>
        <translation>只显示此文件夹中的图片</translation>
    </message>
</context>
<context>
    <name>SettingFields</name>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Always</source>
        <translation>总是</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>从不</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Language of prompts and the UI (auto = system locale)</source>
        <translation>提示词和界面的语言（自动 = 跟随系统）</translation>
    </message>
    <message>
        <source>Log file size limit</source>
        <translation>日志文件大小上限</translation>
    </message>
    <message>
        <source>Start a new log file under logs/ when the current one reaches this many bytes</source>
        <translation>当前日志文件达到此字节数时，在 logs/ 下另起一个新文件</translation>
    </message>
    <message>
        <source>Log files kept</source>
        <translation>保留的日志文件数</translation>
    </message>
    <message>
        <source>Old log files kept for each command</source>
        <translation>每个命令保留的旧日志文件数</translation>
    </message>
    <message>
        <source>Image extensions</source>
        <translation>图片扩展名</translation>
    </message>
    <message>
        <source>Max image pixels</source>
        <translation>图片最大像素数</translation>
    </message>
    <message>
        <source>Refuse images with more pixels than this (decompression-bomb guard)</source>
        <translation>拒绝像素数超过此值的图片（防止解压炸弹）</translation>
    </message>
    <message>
        <source>Max image bytes</source>
        <translation>图片最大字节数</translation>
    </message>
    <message>
        <source>Refuse image files larger than this many bytes</source>
        <translation>拒绝大于此字节数的图片文件</translation>
    </message>
    <message>
        <source>Thumbnail size</source>
        <translation>缩略图尺寸</translation>
    </message>
    <message>
        <source>Longest side of stored thumbnails, in pixels</source>
        <translation>保存的缩略图长边像素数</translation>
    </message>
    <message>
        <source>URL timeout (s)</source>
        <translation>URL 超时（秒）</translation>
    </message>
    <message>
        <source>Timeout in seconds when fetching an image URL</source>
        <translation>获取图片 URL 的超时秒数</translation>
    </message>
    <message>
        <source>URL size cap</source>
        <translation>URL 大小上限</translation>
    </message>
    <message>
        <source>Largest image download accepted, in bytes</source>
        <translation>可接受的最大图片下载字节数</translation>
    </message>
    <message>
        <source>Allowed URL schemes</source>
        <translation>允许的 URL 协议</translation>
    </message>
    <message>
        <source>URL schemes allowed for image inputs</source>
        <translation>图片输入允许使用的 URL 协议</translation>
    </message>
    <message>
        <source>Allow private URLs</source>
        <translation>允许私有地址</translation>
    </message>
    <message>
        <source>Allow image URLs that point at this machine or private networks</source>
        <translation>允许指向本机或私有网络的图片 URL</translation>
    </message>
    <message>
        <source>OCR enabled</source>
        <translation>启用 OCR</translation>
    </message>
    <message>
        <source>Run OCR on every indexed image</source>
        <translation>对每张索引的图片进行 OCR 文字识别</translation>
    </message>
    <message>
        <source>OCR engine</source>
        <translation>OCR 引擎</translation>
    </message>
    <message>
        <source>Min OCR confidence</source>
        <translation>OCR 最低置信度</translation>
    </message>
    <message>
        <source>Drop OCR lines with a lower confidence</source>
        <translation>丢弃置信度低于此值的 OCR 行</translation>
    </message>
    <message>
        <source>OCR threads</source>
        <translation>OCR 线程数</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>后端</translation>
    </message>
    <message>
        <source>Where the vision-language model runs</source>
        <translation>视觉语言模型运行的位置</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Model id (hub) or local directory</source>
        <translation>模型 ID（模型仓库）或本地目录</translation>
    </message>
    <message>
        <source>Model hub</source>
        <translation>模型仓库</translation>
    </message>
    <message>
        <source>Hub to pull models from</source>
        <translation>下载模型的来源</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Weights dtype (auto = bf16 on CUDA/capable CPU, else float32)</source>
        <translation>权重数据类型（自动 = 在 CUDA 或支持的 CPU 上用 bf16，否则 float32）</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力实现</translation>
    </message>
    <message>
        <source>Attention kernel (auto = flash_attention_2 if usable, else sdpa)</source>
        <translation>注意力内核（自动 = 可用时用 flash_attention_2，否则 sdpa）</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Device: auto, cpu, cuda, cuda:N or mps (Apple silicon)</source>
        <translation>设备：auto、cpu、cuda、cuda:N 或 mps（Apple 芯片）</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大生成 token 数</translation>
    </message>
    <message>
        <source>Longest generated answer, in tokens</source>
        <translation>生成回答的最大长度（token）</translation>
    </message>
    <message>
        <source>Min pixels</source>
        <translation>最小像素数</translation>
    </message>
    <message>
        <source>Smallest image area fed to the model, in pixels</source>
        <translation>送入模型的最小图片面积（像素）</translation>
    </message>
    <message>
        <source>Max pixels</source>
        <translation>最大像素数</translation>
    </message>
    <message>
        <source>Largest image area fed to the model (caps visual tokens: one per 28x28 px)</source>
        <translation>送入模型的最大图片面积（限制视觉 token：每 28x28 像素一个）</translation>
    </message>
    <message>
        <source>Resized height</source>
        <translation>缩放高度</translation>
    </message>
    <message>
        <source>Resize images to this height before the model (0 = keep)</source>
        <translation>送入模型前将图片缩放到此高度（0 = 保持）</translation>
    </message>
    <message>
        <source>Resized width</source>
        <translation>缩放宽度</translation>
    </message>
    <message>
        <source>Resize images to this width before the model (0 = keep)</source>
        <translation>送入模型前将图片缩放到此宽度（0 = 保持）</translation>
    </message>
    <message>
        <source>Sample</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>Sample instead of greedy decoding</source>
        <translation>使用采样而不是贪心解码</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Sampling temperature</source>
        <translation>采样温度</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Sampling top-k</source>
        <translation>采样 top-k</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Sampling top-p</source>
        <translation>采样 top-p</translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Images per batch when describing a backlog</source>
        <translation>批量描述积压图片时每批的图片数</translation>
    </message>
    <message>
        <source>CPU int8 quantisation</source>
        <translation>CPU int8 量化</translation>
    </message>
    <message>
        <source>On CPU, quantise the language model&apos;s linear layers to int8 (much faster decode)</source>
        <translation>在 CPU 上将语言模型的线性层量化为 int8（解码快得多）</translation>
    </message>
    <message>
        <source>Model threads</source>
        <translation>模型线程数</translation>
    </message>
    <message>
        <source>OCR workers reading parts of an image in parallel, one CPU thread each (0 = one per core, at most 8)</source>
        <translation>并行读取图片各部分的 OCR 工作线程数，每个占用一个 CPU 线程（0 = 每个核心一个，最多 8 个）</translation>
    </message>
    <message>
        <source>OCR detector pixels</source>
        <translation>OCR 检测像素数</translation>
    </message>
    <message>
        <source>Pixels the text detector looks at per image: larger images are scaled down to this (tall ones are read in bands); fewer is faster but may miss tiny text</source>
        <translation>文字检测器对每张图片查看的像素数：更大的图片会缩小到此值（长图分段读取）；越少越快，但可能漏掉很小的文字</translation>
    </message>
    <message>
        <source>Enhance low-contrast text</source>
        <translation>增强低对比度文字</translation>
    </message>
    <message>
        <source>Read low-contrast images a second time with their contrast stretched</source>
        <translation>对低对比度图片拉伸对比度后再识别一次</translation>
    </message>
    <message>
        <source>CPU threads for the model (0 = all cores but one)</source>
        <translation>模型使用的 CPU 线程数（0 = 除一个核心外的全部核心）</translation>
    </message>
    <message>
        <source>Unload after idle (s)</source>
        <translation>空闲后卸载（秒）</translation>
    </message>
    <message>
        <source>Unload the OCR models after this many idle seconds (0 = never)</source>
        <translation>空闲这么多秒后卸载 OCR 模型（0 = 从不）</translation>
    </message>
    <message>
        <source>File extensions treated as images in folders (empty: every image type this installation opens, HEIC/AVIF too when their Pillow plugins are installed; &apos;vlagent doctor&apos; lists them)</source>
        <translation>文件夹中视为图片的文件扩展名（留空：本机能打开的所有图片类型，装有相应 Pillow 插件时也包括 HEIC/AVIF；&apos;vlagent doctor&apos; 会列出它们）</translation>
    </message>
    <message>
        <source>Unload OCR after idle (s)</source>
        <translation>空闲后卸载 OCR（秒）</translation>
    </message>
    <message>
        <source>int8 kernels</source>
        <translation>int8 计算内核</translation>
    </message>
    <message>
        <source>Kernels for the int8 model: onednn reads prompts ~1.5x faster on CPUs with AMX (decoding ~15% slower) but keeps a second copy of the int8 weights (~1 GB per billion parameters); auto = onednn where AMX is present</source>
        <translation>int8 模型的计算内核：onednn 在带 AMX 的 CPU 上读提示约快 1.5 倍（解码约慢 15%），但会多存一份 int8 权重（每十亿参数约 1 GB）；auto = 有 AMX 时用 onednn</translation>
    </message>
    <message>
        <source>Threads for questions</source>
        <translation>提问时的线程数</translation>
    </message>
    <message>
        <source>CPU threads while someone waits for an answer (0 = all cores); background work uses vlm.threads</source>
        <translation>有人等待回答时使用的 CPU 线程数（0 = 全部核心）；后台任务使用 vlm.threads</translation>
    </message>
    <message>
        <source>Image cache (MB)</source>
        <translation>图片缓存（MB）</translation>
    </message>
    <message>
        <source>Memory kept for the model&apos;s cache of images already read, so follow-up questions start at once (0 = off)</source>
        <translation>为模型保留的已读图片缓存内存，使追问能立即开始（0 = 关闭）</translation>
    </message>
    <message>
        <source>Light mode for text</source>
        <translation>文字轻量模式</translation>
    </message>
    <message>
        <source>Questions about text-heavy screenshots: give the model a smaller image plus the OCR text (auto = when OCR found much text)</source>
        <translation>就文字较多的截图提问时：给模型一张较小的图片并附上 OCR 文字（auto = OCR 识别出大量文字时）</translation>
    </message>
    <message>
        <source>Light mode max pixels</source>
        <translation>轻量模式最大像素</translation>
    </message>
    <message>
        <source>Image area in light mode (one visual token per 28x28 px)</source>
        <translation>轻量模式下的图片面积（每 28x28 像素一个视觉 token）</translation>
    </message>
    <message>
        <source>Unload the model after this many idle seconds (0 = never)</source>
        <translation>空闲这么多秒后卸载模型（0 = 从不）</translation>
    </message>
    <message>
        <source>Describe images</source>
        <translation>描述图片</translation>
    </message>
    <message>
        <source>Describe every indexed image in the background</source>
        <translation>在后台描述每张索引的图片</translation>
    </message>
    <message>
        <source>Transcribe with the model</source>
        <translation>用模型转写文字</translation>
    </message>
    <message>
        <source>Also transcribe text with the model (besides OCR)</source>
        <translation>除 OCR 外也用模型转写文字</translation>
    </message>
    <message>
        <source>Description prompt</source>
        <translation>描述提示词</translation>
    </message>
    <message>
        <source>Description prompt (empty = built-in for the language)</source>
        <translation>描述用的提示词（留空 = 该语言的内置提示词）</translation>
    </message>
    <message>
        <source>Transcription prompt</source>
        <translation>转写提示词</translation>
    </message>
    <message>
        <source>Transcription prompt (empty = built-in for the language)</source>
        <translation>转写用的提示词（留空 = 该语言的内置提示词）</translation>
    </message>
    <message>
        <source>Remote base URL</source>
        <translation>远程服务地址</translation>
    </message>
    <message>
        <source>Base URL of an OpenAI-compatible server (backend = openai)</source>
        <translation>OpenAI 兼容服务的基础 URL（后端 = openai）</translation>
    </message>
    <message>
        <source>Remote API key</source>
        <translation>远程 API 密钥</translation>
    </message>
    <message>
        <source>API key for the remote server</source>
        <translation>远程服务的 API 密钥</translation>
    </message>
    <message>
        <source>Remote model</source>
        <translation>远程模型</translation>
    </message>
    <message>
        <source>Model name on the remote server</source>
        <translation>远程服务上的模型名称</translation>
    </message>
    <message>
        <source>Remote concurrency</source>
        <translation>远程并发数</translation>
    </message>
    <message>
        <source>Parallel requests to the remote server</source>
        <translation>发往远程服务的并行请求数</translation>
    </message>
    <message>
        <source>Remote timeout (s)</source>
        <translation>远程超时（秒）</translation>
    </message>
    <message>
        <source>Timeout per remote request, in seconds</source>
        <translation>每个远程请求的超时秒数</translation>
    </message>
    <message>
        <source>Remote retries</source>
        <translation>远程重试次数</translation>
    </message>
    <message>
        <source>Retries per remote request (with backoff)</source>
        <translation>每个远程请求的重试次数（带退避）</translation>
    </message>
    <message>
        <source>Memory: images retrieved</source>
        <translation>全部提问：检索图片数</translation>
    </message>
    <message>
        <source>Images retrieved for a question over everything seen</source>
        <translation>就看过的所有内容提问时检索的图片数</translation>
    </message>
    <message>
        <source>Memory: text budget (tokens)</source>
        <translation>全部提问：文字预算（token）</translation>
    </message>
    <message>
        <source>Token budget for the retrieved images&apos; text in the answer&apos;s prompt</source>
        <translation>回答提示词中检索到的图片文字所占的 token 预算</translation>
    </message>
    <message>
        <source>Memory: images shown to the model</source>
        <translation>全部提问：给模型看的图片数</translation>
    </message>
    <message>
        <source>How many of the best retrieved images the model also sees (0 = text only)</source>
        <translation>检索结果中最相关的几张图片也交给模型看（0 = 只用文字）</translation>
    </message>
    <message>
        <source>Memory: image pixel cap</source>
        <translation>全部提问：图片像素上限</translation>
    </message>
    <message>
        <source>Pixel cap for those images (256 visual tokens by default)</source>
        <translation>这些图片的像素上限（默认 256 个视觉 token）</translation>
    </message>
    <message>
        <source>Memory: answer length</source>
        <translation>全部提问：回答长度</translation>
    </message>
    <message>
        <source>Longest answer to a memory question, in tokens</source>
        <translation>全部提问时回答的最大长度（token）</translation>
    </message>
    <message>
        <source>Memory: cross-lingual rewrite</source>
        <translation>全部提问：跨语言改写</translation>
    </message>
    <message>
        <source>Let the model rewrite a question into English and Chinese search words when the literal words find too little or the languages differ</source>
        <translation>原词找到的内容太少或语言不同时，让模型把问题改写成中英文搜索词</translation>
    </message>
    <message>
        <source>Memory: rewrite length</source>
        <translation>全部提问：改写长度</translation>
    </message>
    <message>
        <source>Longest rewrite of a question into search words, in tokens</source>
        <translation>把问题改写成搜索词时的最大长度（token）</translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation>监视的文件夹</translation>
    </message>
    <message>
        <source>Folders watched for new images</source>
        <translation>监视新图片的文件夹</translation>
    </message>
    <message>
        <source>Excluded patterns</source>
        <translation>排除的模式</translation>
    </message>
    <message>
        <source>Glob patterns of files and folders (ending in /) never indexed</source>
        <translation>永不索引的文件和文件夹（以 / 结尾）的通配模式</translation>
    </message>
    <message>
        <source>Include hidden</source>
        <translation>包括隐藏文件</translation>
    </message>
    <message>
        <source>Index hidden files and folders</source>
        <translation>索引隐藏的文件和文件夹</translation>
    </message>
    <message>
        <source>Settle time (s)</source>
        <translation>稳定等待（秒）</translation>
    </message>
    <message>
        <source>A file must stay unchanged this long before it is read</source>
        <translation>文件需保持不变这么久才会被读取</translation>
    </message>
    <message>
        <source>Polling</source>
        <translation>轮询</translation>
    </message>
    <message>
        <source>Use a polling observer (auto = when inotify is unusable)</source>
        <translation>使用轮询监视（自动 = inotify 不可用时）</translation>
    </message>
    <message>
        <source>Polling interval (s)</source>
        <translation>轮询间隔（秒）</translation>
    </message>
    <message>
        <source>Seconds between scans of a folder watched by polling (network mounts, watch limit reached)</source>
        <translation>以轮询方式监视的文件夹两次扫描之间的秒数（网络挂载、达到监视数量上限时）</translation>
    </message>
    <message>
        <source>Keep gone images</source>
        <translation>保留已删除的图片</translation>
    </message>
    <message>
        <source>Keep an image&apos;s record after its last file is gone (search still shows it)</source>
        <translation>图片的最后一个文件删除后仍保留其记录（搜索仍能找到）</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Pause all watching, capturing and indexing</source>
        <translation>暂停所有监视、截图和索引</translation>
    </message>
    <message>
        <source>Excluded folders</source>
        <translation>排除的文件夹</translation>
    </message>
    <message>
        <source>Folders never indexed or captured from</source>
        <translation>永不索引或截图的文件夹</translation>
    </message>
    <message>
        <source>Retention (days)</source>
        <translation>保留期（天）</translation>
    </message>
    <message>
        <source>Delete results and thumbnails of images whose files are gone after N days (0 = never)</source>
        <translation>文件删除 N 天后删除图片的结果和缩略图（0 = 从不）</translation>
    </message>
    <message>
        <source>Capture hotkey</source>
        <translation>截图快捷键</translation>
    </message>
    <message>
        <source>Global capture hotkey (pynput syntax)</source>
        <translation>全局截图快捷键（pynput 语法）</translation>
    </message>
    <message>
        <source>Keep captures</source>
        <translation>保留截图</translation>
    </message>
    <message>
        <source>Keep captures (PNG under captures/) and index them</source>
        <translation>保留截图（captures/ 下的 PNG）并为其建立索引</translation>
    </message>
    <message>
        <source>Capture backend</source>
        <translation>截图方式</translation>
    </message>
    <message>
        <source>Screen grabber (auto = mss, then Qt, then grim, then the desktop portal)</source>
        <translation>屏幕抓取方式（自动 = 依次尝试 mss、Qt、grim、桌面门户）</translation>
    </message>
    <message>
        <source>API enabled</source>
        <translation>启用 API</translation>
    </message>
    <message>
        <source>Start the local API server with the desktop app</source>
        <translation>随桌面应用启动本地 API 服务</translation>
    </message>
    <message>
        <source>API host</source>
        <translation>API 地址</translation>
    </message>
    <message>
        <source>Address the API binds to</source>
        <translation>API 绑定的地址</translation>
    </message>
    <message>
        <source>API port</source>
        <translation>API 端口</translation>
    </message>
    <message>
        <source>Port the API listens on</source>
        <translation>API 监听的端口</translation>
    </message>
    <message>
        <source>Allow remote API clients</source>
        <translation>允许远程 API 客户端</translation>
    </message>
    <message>
        <source>Allow binding the API to an address other than loopback (other machines can then reach it; the token is still required)</source>
        <translation>允许将 API 绑定到回环以外的地址（其他机器即可访问；仍需令牌）</translation>
    </message>
    <message>
        <source>API body limit</source>
        <translation>API 请求体上限</translation>
    </message>
    <message>
        <source>Largest API request body</source>
        <translation>API 请求体的最大字节数</translation>
    </message>
    <message>
        <source>API queue limit</source>
        <translation>API 队列上限</translation>
    </message>
    <message>
        <source>Model requests the API lets wait for the worker; more are answered 429 (retry later)</source>
        <translation>API 允许排队等待后台处理的模型请求数；超出的请求返回 429（稍后重试）</translation>
    </message>
    <message>
        <source>API request head timeout</source>
        <translation>API 请求头超时</translation>
    </message>
    <message>
        <source>Seconds a client has to send a whole request head (request line and headers); a slower connection is closed</source>
        <translation>客户端发送完整请求头（请求行和各请求头）的时限（秒）；超时的连接会被关闭</translation>
    </message>
    <message>
        <source>API request body timeout</source>
        <translation>API 请求体超时</translation>
    </message>
    <message>
        <source>Seconds a client has to send a request body once its head arrived; a slower connection is closed</source>
        <translation>请求头到达后，客户端发送请求体的时限（秒）；超时的连接会被关闭</translation>
    </message>
    <message>
        <source>API keep-alive</source>
        <translation>API 连接保持时间</translation>
    </message>
    <message>
        <source>Seconds an idle connection is kept open between requests</source>
        <translation>两次请求之间空闲连接保持打开的秒数</translation>
    </message>
    <message>
        <source>API connection limit</source>
        <translation>API 连接上限</translation>
    </message>
    <message>
        <source>Open API connections at most (also kept below the process&apos;s file limit); past it, the oldest one waiting for a request is closed, or the new one answered 503</source>
        <translation>API 最多同时打开的连接数（也保持在进程文件数上限之下）；超出时关闭等待请求最久的连接，或对新连接返回 503</translation>
    </message>
    <message>
        <source>API connections per client</source>
        <translation>API 每客户端连接数</translation>
    </message>
    <message>
        <source>Connections one address may hold that have not sent a request with the token; past it, its oldest such connection is closed</source>
        <translation>同一地址可保持的、尚未发送带令牌请求的连接数；超出时关闭其中最早的一个</translation>
    </message>
    <message>
        <source>API: index described images</source>
        <translation>API：为描述的图片建立索引</translation>
    </message>
    <message>
        <source>Add the images sent to /v1/describe, /describe-image/ and /v1/vision/completion to the index (off: they are described and forgotten)</source>
        <translation>把发送到 /v1/describe、/describe-image/ 和 /v1/vision/completion 的图片加入索引（关闭时：只描述，不保留）</translation>
    </message>
    <message>
        <source>MCP: allow screen capture</source>
        <translation>MCP：允许截屏</translation>
    </message>
    <message>
        <source>Let MCP clients capture the screen (the capture_screen tool of &apos;vlagent mcp&apos;); off: the tool answers with an error saying how to turn it on</source>
        <translation>允许 MCP 客户端截取屏幕（&apos;vlagent mcp&apos; 的 capture_screen 工具）；关闭时该工具返回错误并说明如何开启</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>vlagent settings</source>
        <translation>vlagent 设置</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation>监视的文件夹</translation>
    </message>
    <message>
        <source>Privacy</source>
        <translation>隐私</translation>
    </message>
    <message>
        <source>Capture</source>
        <translation>截图</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>OCR</source>
        <translation>OCR</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>网络</translation>
    </message>
    <message>
        <source>API</source>
        <translation>API</translation>
    </message>
    <message>
        <source>Ask all</source>
        <translation>全部提问</translation>
    </message>
    <message>
        <source>MCP</source>
        <translation>MCP</translation>
    </message>
    <message>
        <source>Put this tab&apos;s settings back to their defaults (saved with OK or Apply)</source>
        <translation>将此页的设置恢复为默认值（点击“确定”或“应用”后保存）</translation>
    </message>
    <message>
        <source>(applies after a restart)</source>
        <translation>（重启后生效）</translation>
    </message>
    <message>
        <source>{label}:</source>
        <translation>{label}：</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>The index, thumbnails, captures and models live here. To use another folder, start vlagent with --home DIR or set the VLAGENT_HOME environment variable.</source>
        <translation>索引、缩略图、截图和模型都保存在这里。要使用其他文件夹，请用 --home DIR 启动 vlagent，或设置环境变量 VLAGENT_HOME。</translation>
    </message>
    <message>
        <source>Data folder:</source>
        <translation>数据文件夹：</translation>
    </message>
    <message>
        <source>Pull model</source>
        <translation>下载模型</translation>
    </message>
    <message>
        <source>Downloading models is not available in this installation.</source>
        <translation>此安装不支持下载模型。</translation>
    </message>
    <message>
        <source>Download the model above from the chosen hub into the data folder</source>
        <translation>从所选模型仓库将上面的模型下载到数据文件夹</translation>
    </message>
    <message>
        <source>Connecting to {hub}…</source>
        <translation>正在连接 {hub}…</translation>
    </message>
    <message>
        <source>Ready: {path}</source>
        <translation>已就绪：{path}</translation>
    </message>
    <message>
        <source>Saved. Some changes apply after vlagent restarts.</source>
        <translation>已保存。部分更改在 vlagent 重启后生效。</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
</context>
<context>
    <name>TextField</name>
    <message>
        <source>(empty: the built-in default)</source>
        <translation>（留空：使用内置默认值）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
</context>
<context>
    <name>TimelineView</name>
    <message>
        <source>Timeline</source>
        <translation>时间线</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>昨天</translation>
    </message>
    <message>
        <source>1 image</source>
        <translation>1 张图片</translation>
    </message>
    <message>
        <source>{n} images</source>
        <translation>{n} 张图片</translation>
    </message>
    <message>
        <source>Nothing seen yet: images appear here as vlagent indexes them.</source>
        <translation>还没有看过任何图片：vlagent 索引图片后，它们会出现在这里。</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
</context>
</TS>
