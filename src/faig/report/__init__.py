"""The report: figures (matplotlib), and the same content as self-contained HTML and as Markdown.
Data in, files out; nothing here computes a result."""
