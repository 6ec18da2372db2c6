"""Encryption at rest: one file = one header + AES-256-GCM chunks (pure: bytes in, bytes out).

Layout (all integers big-endian)::

    header  "MQE1" | version u8 | 3 zero bytes | chunk_size u32 | plain_len u64 | salt 16   (36 bytes)
    chunk i ciphertext of min(chunk_size, rest) bytes + 16-byte tag

* The file key is ``HKDF-SHA256(content_key, salt, info="marquee-file-v1")`` with a fresh
  random 16-byte salt for every file written, so every file has its own key and the
  nonce (the chunk index, 12 bytes) is never reused under a key.
* Every chunk's associated data is ``header | len(label) | label | index | final``: the
  label (``<download-id>/<path>``) binds a file to its place, so swapping, truncating,
  extending or editing any byte (header included) fails authentication.
* Chunks make range reads cheap: only the chunks that cover the range are decrypted.
"""

from __future__ import annotations

import os
import struct
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from drm.errors import DownloadDamaged

MAGIC = b"MQE1"
VERSION = 1
HEADER = struct.Struct(">4sB3sIQ16s")
HEADER_SIZE = HEADER.size
TAG = 16
DEFAULT_CHUNK = 256 * 1024
KEY_BYTES = 32


def _file_key(content_key: bytes, salt: bytes) -> AESGCM:
    if len(content_key) != KEY_BYTES:
        raise ValueError("content keys are 32 bytes")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"marquee-file-v1").derive(content_key)
    return AESGCM(key)


def _aad(header: bytes, label: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">H", len(label)) + label + struct.pack(">IB", index, int(final))


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def chunk_count(plain_len: int, chunk_size: int) -> int:
    return max(1, -(-plain_len // chunk_size))


def sealed_size(plain_len: int, chunk_size: int = DEFAULT_CHUNK) -> int:
    return HEADER_SIZE + plain_len + TAG * chunk_count(plain_len, chunk_size)


def seal(content_key: bytes, label: str, plaintext: bytes, *, chunk_size: int = DEFAULT_CHUNK,
         salt: bytes | None = None) -> bytes:
    """Encrypt ``plaintext`` for storage under ``label``."""
    out = bytearray(sealed_size(len(plaintext), chunk_size))
    return bytes(seal_into(out, content_key, label, plaintext, chunk_size=chunk_size, salt=salt))


def seal_into(out: bytearray, content_key: bytes, label: str, plaintext: bytes, *,
              chunk_size: int = DEFAULT_CHUNK, salt: bytes | None = None) -> memoryview:
    """``seal`` into ``out`` (grown when too small): a view of the sealed bytes, valid until
    ``out`` is used again. A writer that reuses one buffer never touches fresh memory."""
    size = sealed_size(len(plaintext), chunk_size)
    if len(out) < size:
        out.extend(bytes(size - len(out)))
    salt = os.urandom(16) if salt is None else salt
    header = HEADER.pack(MAGIC, VERSION, b"\0\0\0", chunk_size, len(plaintext), salt)
    aead = _file_key(content_key, salt)
    lab = label.encode("utf-8")
    n = chunk_count(len(plaintext), chunk_size)
    src, dst = memoryview(plaintext), memoryview(out)
    dst[:HEADER_SIZE] = header
    at = HEADER_SIZE
    for i in range(n):
        part = src[i * chunk_size:(i + 1) * chunk_size]  # no copies: AESGCM reads and writes in place
        aead.encrypt_into(_nonce(i), part, _aad(header, lab, i, i == n - 1), dst[at:at + len(part) + TAG])
        at += len(part) + TAG
    return dst[:size]


class SealedInfo:
    """The parsed header of a sealed file."""

    def __init__(self, header: bytes, label: str) -> None:
        if len(header) < HEADER_SIZE:
            raise DownloadDamaged(f"{label}: shorter than its header")
        magic, version, _, chunk_size, plain_len, salt = HEADER.unpack(header[:HEADER_SIZE])
        if magic != MAGIC or version != VERSION or chunk_size <= 0 or chunk_size > 64 << 20:
            raise DownloadDamaged(f"{label}: not a Marquee encrypted file (bad header)")
        self.header = header[:HEADER_SIZE]
        self.chunk_size = int(chunk_size)
        self.plain_len = int(plain_len)
        self.salt = bytes(salt)
        self.chunks = chunk_count(self.plain_len, self.chunk_size)
        self.sealed_len = HEADER_SIZE + self.plain_len + TAG * self.chunks

    def chunk_span(self, index: int) -> tuple[int, int]:
        """(offset, length) of chunk ``index``'s ciphertext in the file."""
        plain = min(self.chunk_size, self.plain_len - index * self.chunk_size) if self.plain_len else 0
        return HEADER_SIZE + index * (self.chunk_size + TAG), plain + TAG


ReadAt = Callable[[int, int], bytes]  # (offset, length) -> bytes


def open_range(content_key: bytes, label: str, read_at: ReadAt, file_size: int,
               start: int = 0, end: int | None = None) -> bytearray:
    """Decrypt plaintext bytes ``start..end`` (inclusive; ``end=None``: to the end)."""
    info = SealedInfo(read_at(0, HEADER_SIZE), label)
    if file_size != info.sealed_len:
        raise DownloadDamaged(f"{label}: {file_size} bytes on disk, {info.sealed_len} expected (truncated or extended)")
    last = info.plain_len - 1 if end is None else min(end, info.plain_len - 1)
    if info.plain_len == 0:
        first_chunk, last_chunk = 0, 0
    else:
        if start > last:
            return bytearray()
        first_chunk, last_chunk = start // info.chunk_size, last // info.chunk_size
    aead = _file_key(content_key, info.salt)
    lab = label.encode("utf-8")
    base = info.chunk_span(first_chunk)[0]
    last_offset, last_length = info.chunk_span(last_chunk)
    span = memoryview(read_at(base, last_offset + last_length - base))  # one read for the whole range
    # Every chunk decrypts into its place in one buffer: no object per chunk, no join (fresh
    # memory per chunk cost more than AES-GCM itself on the reference VM).
    out = bytearray(last_offset + last_length - base - TAG * (last_chunk - first_chunk + 1))
    with memoryview(out) as dst:
        at = 0
        for i in range(first_chunk, last_chunk + 1):
            offset, length = info.chunk_span(i)
            blob = span[offset - base:offset - base + length]
            try:
                aead.decrypt_into(_nonce(i), blob, _aad(info.header, lab, i, i == info.chunks - 1),
                                  dst[at:at + length - TAG])
            except InvalidTag:
                raise DownloadDamaged(f"{label}: chunk {i} failed authentication") from None
            at += length - TAG
    if info.plain_len == 0:
        return bytearray()
    del out[last - first_chunk * info.chunk_size + 1:]  # in place: bytearray trims without copying
    del out[:start - first_chunk * info.chunk_size]
    return out


def open_all(content_key: bytes, label: str, blob: bytes) -> bytearray:
    def read_at(offset: int, length: int) -> bytes:
        return blob[offset:offset + length]

    return open_range(content_key, label, read_at, len(blob))


def plain_length(header: bytes, label: str) -> int:
    return SealedInfo(header, label).plain_len
