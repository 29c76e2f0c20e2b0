"""The knowledge base: Markdown documents, their schema, loading, checking and editing."""
