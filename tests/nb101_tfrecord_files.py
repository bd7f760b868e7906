"""Writes small files in the exact format of nasbench's TFRecord release, for the tests.

The CRC32C here is the plain bitwise definition, independent of the loader's table-driven
vectorised one, so the two check each other.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked(length)) + data + struct.pack("<I", masked(data))


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def double(number: int, value: float) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<d", value)


def evaluation(epoch, seconds, train, valid, test, checkpoint="") -> bytes:
    body = double(1, epoch) + double(2, seconds) + double(3, train)
    body += double(4, valid) + double(5, test)
    if checkpoint:
        raw = checkpoint.encode()
        body += varint(6 << 3 | 2) + varint(len(raw)) + raw
    return body


def model_metrics(stages: list[bytes], params: int, total_time: float) -> bytes:
    out = b"".join(varint(1 << 3 | 2) + varint(len(s)) + s for s in stages)
    return out + varint(2 << 3) + varint(params) + double(3, total_time)


def record(cell_hash: str, epochs: int, matrix, ops, metrics: bytes) -> bytes:
    adjacency = "".join(str(int(v)) for row in matrix for v in row)
    row = [cell_hash, epochs, adjacency, ",".join(ops), base64.b64encode(metrics).decode()]
    return json.dumps(row).encode()


def write(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(frame(r) for r in records))
    return path
