"""The serving embedder: the ONNX export of the packaged model, run by ONNX Runtime.

Only ``onnxruntime``, ``tokenizers`` and ``numpy`` are imported (no torch, transformers or
sentence-transformers), so a process that answers questions starts in well under a second.
It computes what sentence-transformers computes for all-MiniLM-L6-v2: the transformer's last
hidden state, mean-pooled over the attention mask, then L2-normalised. The export is made once
at set-up by :mod:`retrieval.onnx_export` (``reskill export-embedder``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

MANIFEST = "export.json"


class ExportMissing(FileNotFoundError):
    """No usable ONNX export where the settings point; the message names the command that makes one."""


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _session(model: Path, digest: str, options):
    """ONNX Runtime's session for ``model``, from the graph it optimised the first time.

    The optimised graph is saved beside the export (``<file>.ort-<version>-<digest>.onnx``, at the
    extended level, which is not specific to this CPU) and later loaded with the optimisations off:
    0.15 s instead of 0.23-0.43 s at each start, the same vectors bit for bit (the index stamp still
    names ``model``). A folder that cannot be written to gets the ordinary session."""
    import onnxruntime as ort

    levels = ort.GraphOptimizationLevel
    providers = ["CPUExecutionProvider"]
    if not (len(digest) == 16 and all(c in "0123456789abcdef" for c in digest)):  # an export being checked
        return ort.InferenceSession(str(model), options, providers=providers)
    optimised = model.with_name(f"{model.stem}.ort-{ort.__version__}-{digest}.onnx")
    if optimised.is_file():
        options.graph_optimization_level = levels.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(optimised), options, providers=providers)
        except Exception:  # damaged (e.g. a partial copy): made again below
            pass
    options.graph_optimization_level = levels.ORT_ENABLE_EXTENDED
    tmp = optimised.with_name(f".{optimised.name}.{os.getpid()}.tmp")
    options.optimized_model_filepath = str(tmp)
    try:
        session = ort.InferenceSession(str(model), options, providers=providers)
        os.replace(tmp, optimised)  # whole or not at all, if two processes start together
        return session
    except Exception:
        tmp.unlink(missing_ok=True)
        options.optimized_model_filepath = ""
        options.graph_optimization_level = levels.ORT_ENABLE_ALL
        return ort.InferenceSession(str(model), options, providers=providers)


class OnnxEmbeddings:
    """The embedder over an exported folder (``export.json`` names the model file).

    It has the two methods of LangChain's ``Embeddings`` interface that this project calls
    (``embed_documents``, ``embed_query``) without subclassing it: importing langchain_core costs
    0.1-0.15 s at every start, and the serving path needs nothing else from it."""

    def __init__(self, folder: Path, batch_size: int = 32, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        manifest = read_manifest(folder)
        if manifest is None or not (folder / manifest.get("file", "?")).is_file():
            raise ExportMissing(f"no ONNX export of the embedding model in {folder}; run `reskill export-embedder`")
        self.folder = folder
        self.manifest = manifest
        self.batch_size = batch_size
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No busy-waiting between operators: on two cores shared with other processes the spinning
        # threads steal the CPU the work needs (a fresh index build was ~35% faster without it).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = _session(folder / manifest["file"], str(manifest.get("file_sha256", ""))[:16], options)
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(manifest.get("max_seq_length", 256)))
        self.tokenizer.no_padding()
        self.pad_id = int(manifest.get("pad_token_id", 0))

    @property
    def stamp(self) -> dict[str, str]:
        """What built these vectors, as the index records it (see ``retrieval.embeddings.embedding_stamp``)."""
        m = self.manifest
        return {
            "embedding_backend": "onnx",
            "embedding_quantisation": m["quantisation"],
            "embedding_digest": m["file_sha256"][:16],
            "embedding_source_digest": m["source_sha256"][:16],
        }

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, int(self.manifest.get("dimensions", 384))), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        # Batches of similar length pad little; the order is restored at the end.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), int(self.manifest.get("dimensions", 384))), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in part)
            ids = np.full((len(part), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(part), width), dtype=np.int64)
            types = np.zeros((len(part), width), dtype=np.int64)
            for row, i in enumerate(part):
                enc = encodings[i]
                n = len(enc.ids)
                ids[row, :n] = enc.ids
                mask[row, :n] = 1
                types[row, :n] = enc.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[part] = pooled / np.clip(norms, 1e-12, None)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0].tolist()
