"""Measuring quality on the user's own images: OCR against the VLM's transcription (CER, word
recall) and the VLM's descriptions against reference captions (BLEU-4, CIDEr), so a model and
its settings can be chosen with numbers. ``vlagent eval ocr|captions`` is the front end."""
