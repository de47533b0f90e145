"""Text encodings and byte streams: byte-order marks, transcoding to UTF-8, CR line ends, :class:`ChunkStream`."""

from __future__ import annotations

import codecs
import functools
import io
from typing import IO, Callable, Iterable, Iterator

from .items import InputError


def _peekable(stream: IO[bytes]) -> IO[bytes]:
    return stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]


def check_encoding(encoding: str | None) -> None:
    """A ValueError unless ``encoding`` is None or the name of a text encoding Python knows."""
    if encoding is None:
        return
    try:
        "".encode(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}: give one Python knows, e.g. cp1252 (Excel's on "
                         "Windows), latin-1 or utf-16") from None


def as_utf8(stream: IO[bytes], encoding: str | None, keep_utf16: bool = False) -> tuple[IO[bytes], bool]:
    """``(stream read as UTF-8, whether it had to be transcoded)``: from ``encoding`` when given, else
    from UTF-16 or UTF-32 when the (peekable) stream starts with its byte-order mark, unless
    ``keep_utf16`` (the CSV reader decodes UTF-16 itself); a UTF-8 stream is returned as it is. An
    ``encoding`` that the stream's byte-order mark contradicts is an :class:`InputError`."""
    mark = _mark_of(stream.peek(4)[:4])  # type: ignore[attr-defined]
    marked = _READS_THE_MARK[mark][0] if mark is not None else None
    if encoding is None:
        if marked is None or (keep_utf16 and marked == "utf-16"):
            return stream, False
        encoding = marked
    else:
        given = codecs.lookup(encoding).name
        if mark is not None and given not in _READS_THE_MARK[mark]:
            raise InputError(f"the input starts with a {marked.upper()} byte-order mark, so it is {marked.upper()}, not "
                             f"{encoding}: leave --encoding out ({marked.upper()} with its mark is read without it)")
        if given == "utf-8":
            return stream, False
    chunks = _utf8_lines(stream, encoding) if _one_byte_a_character(encoding) else _utf8_chunks(stream, encoding)
    return _buffered(chunks), True


#: UTF-16 and UTF-32 byte-order marks, and the codec names that read each (a UTF-32 LE mark starts with UTF-16 LE's)
_READS_THE_MARK = {codecs.BOM_UTF32_LE: ("utf-32", "utf-32-le"), codecs.BOM_UTF32_BE: ("utf-32", "utf-32-be"),
                   codecs.BOM_UTF16_LE: ("utf-16", "utf-16-le"), codecs.BOM_UTF16_BE: ("utf-16", "utf-16-be")}


def _mark_of(head: bytes) -> bytes | None:
    """The UTF-16 or UTF-32 byte-order mark ``head`` starts with, or None."""
    return next((mark for mark in _READS_THE_MARK if head.startswith(mark)), None)


def bom_encoding(head: bytes) -> str | None:
    """``"utf-32"`` or ``"utf-16"`` when ``head`` starts with that byte-order mark, else None."""
    mark = _mark_of(head)
    return _READS_THE_MARK[mark][0] if mark is not None else None


@functools.lru_cache(maxsize=32)
def _one_byte_a_character(encoding: str) -> bool:
    """Whether an encoding writes ASCII as ASCII and reads every byte as one character, whatever the bytes
    around it (cp1252, latin-1, koi8-r...; not GBK, Shift JIS, ISO-2022-JP, UTF-16): only in such an encoding
    is a line that reads as UTF-8 taken for UTF-8 (GBK's 谢谢 reads as UTF-8's лл)."""
    probe = bytes(range(256)) + b"\x1b$B~{"
    try:
        return "\n a".encode(encoding) == b"\n a" and len(probe.decode(encoding, "surrogateescape")) == len(probe)
    except (UnicodeError, LookupError):
        return False


def _utf8_lines(inner: IO[bytes], encoding: str) -> Iterator[bytes]:
    """A byte stream in a one-byte-a-character encoding (:func:`_one_byte_a_character`), line by line, as
    UTF-8; a line that already is UTF-8 (a file joined from two exports, one re-saved by Excel) is kept as
    it is, and a byte the encoding has no character for is kept too, so that its line is reported as not
    UTF-8 rather than changed."""
    for line in inner:
        if line.isascii():
            yield line
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            yield line.decode(encoding, "surrogateescape").encode("utf-8", "surrogateescape")
        else:
            yield line


def _utf8_chunks(inner: IO[bytes], encoding: str) -> Iterator[bytes]:
    """A byte stream in another encoding (UTF-16, GBK...), chunk by chunk, as UTF-8; what it cannot decode
    (a lone UTF-16 surrogate, a file cut mid-character) becomes U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    while chunk := inner.read(1 << 16):
        yield decoder.decode(chunk).encode("utf-8", "surrogatepass")
    yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")


def _buffered(chunks: Iterable[bytes]) -> IO[bytes]:
    """Byte chunks as a buffered, peekable stream."""
    return io.BufferedReader(ChunkStream(chunks), buffer_size=1 << 16)  # type: ignore[arg-type]


class ChunkStream(io.RawIOBase):
    """Byte chunks from an iterator as a readable stream (to wrap in ``io.BufferedReader``):
    a transcoded input (:func:`as_utf8`), a workbook's sheet as CSV lines; ``on_close`` is called
    when it is closed."""

    def __init__(self, chunks: Iterable[bytes], on_close: Callable[[], None] | None = None):
        self.chunks, self.on_close, self.pending = iter(chunks), on_close, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        parts, size = [self.pending], len(self.pending)
        while size < len(buffer):  # joined once: many small chunks (a sheet's lines) fill one read
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        n = min(len(buffer), len(data))
        buffer[:n], self.pending = data[:n], data[n:]
        return n

    def close(self) -> None:
        if not self.closed and self.on_close is not None:
            self.on_close()
        super().close()


def _not_utf16_without_its_mark(head: bytes, name: str) -> None:
    """An :class:`InputError` for text that is UTF-16 with no byte-order mark (every other byte a NUL, as
    some tools write it): read as UTF-8 it came back with NULs in every cell, with no word."""
    if len(head) < 8 or bom_encoding(head):
        return
    for zeros, endian in ((head[1::2], "le"), (head[0::2], "be")):
        if zeros.count(0) > 0.9 * len(zeros) and head.count(0) < 0.6 * len(head):
            raise InputError(f"cannot read {name}: it is UTF-16 without a byte-order mark (a NUL in every other "
                             f"byte); name it: --encoding utf-16-{endian}")


def lines_ending_in_cr(stream: IO[bytes]) -> tuple[IO[bytes], bool]:
    """``(stream, whether its lines end in a CR alone)``: a peekable stream whose first 64 KiB hold a
    carriage return and no line feed (an old Mac's text, Excel's "CSV (Macintosh)") read with line
    feeds for them, so that its lines are lines (a CR LF further on stays one line's end); else the stream
    as it is."""
    head = stream.peek(1 << 16)[: 1 << 16]  # type: ignore[attr-defined]
    if b"\r" not in head or b"\n" in head:
        return stream, False
    return _buffered(_cr_as_lf(stream)), True


def _cr_as_lf(stream: IO[bytes]) -> Iterator[bytes]:
    """A stream's bytes with each line end, CR LF or a CR alone, as an LF (a CR that ends a chunk waits for
    the next one's first byte)."""
    held = b""
    while chunk := stream.read(1 << 16):
        chunk, held = held + chunk, b""
        if chunk.endswith(b"\r"):
            chunk, held = chunk[:-1], b"\r"
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if held:
        yield b"\n"
