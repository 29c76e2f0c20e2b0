"""Finding knowledge: chunking, embeddings, the Chroma index, keyword search and fusion."""
