#!/usr/bin/env python3
"""Read a zip with Python's own readers only (zipfile, zlib, hashlib, struct) and report what is
in it, the way two kinds of reader see it.

usage: read_zip.py ZIP  > report.json

- zipfile (central directory): testzip(), then every entry read whole (zipfile checks the CRC at
  the end of each read), its CRC recomputed with zlib.crc32, its MD5, sizes, method, flags,
  version needed, host, external attributes, DOS time, and whether its central record has a
  ZIP64 extra field; whether the archive has ZIP64 end records.
- a streaming reader (local headers only, front to back, as `unzip -` or Java's ZipInputStream
  read): each local header, the entry's raw deflate data inflated with zlib (raw, wbits=-15)
  until its end, then the data descriptor, 8-byte sizes when the local header has a ZIP64 extra
  field and 4-byte otherwise; the next local header (or the central directory) must follow.

Prints {"file_md5", "eocd64", "entries": [...], "problems": [...]}; anything the two views
disagree on, or any reader error, is a problem.
"""
import hashlib
import json
import struct
import sys
import zipfile
import zlib


def local_extra_has_zip64(extra):
    i = 0
    while i + 4 <= len(extra):
        tag, ln = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            return True
        i += 4 + ln
    return False


def stream_view(data, central, problems):
    """Walk local headers front to back; return one dict per entry."""
    out = []
    pos = 0
    while data[pos:pos + 4] == b"PK\x03\x04":
        (_, ver, flags, method, _t, _d, crc, csize, usize, nlen, xlen) = struct.unpack_from(
            "<IHHHHHIIIHH", data, pos)
        name = data[pos + 30:pos + 30 + nlen].decode("utf-8" if flags & 0x800 else "cp437")
        extra = data[pos + 30 + nlen:pos + 30 + nlen + xlen]
        zip64 = local_extra_has_zip64(extra)
        start = pos + 30 + nlen + xlen
        if method == 8:
            d = zlib.decompressobj(-15)
            # Feed in pieces so a stream that does not end is caught, not inflated forever.
            got = bytearray()
            p = start
            while not d.eof and p < len(data):
                got += d.decompress(data[p:p + 65536])
                p += 65536
            if not d.eof:
                problems.append(f"{name}: deflate stream does not end")
                return out
            end = min(p, len(data)) - len(d.unused_data)
            body = bytes(got)
        elif method == 0:
            # A streaming reader cannot find the end of stored data with bit 3; take it from
            # the central directory, as every reader that accepts such entries does.
            c = central.get(name)
            if c is None:
                problems.append(f"{name}: stored entry not in the central directory")
                return out
            end = start + c.compress_size
            body = data[start:end]
        else:
            problems.append(f"{name}: method {method}")
            return out
        if flags & 8:
            if data[end:end + 4] != b"PK\x07\x08":
                problems.append(f"{name}: no data descriptor signature after the data")
                return out
            if zip64:
                dcrc, dcsize, dusize = struct.unpack_from("<IQQ", data, end + 4)
                pos = end + 4 + 20
            else:
                dcrc, dcsize, dusize = struct.unpack_from("<III", data, end + 4)
                pos = end + 4 + 12
        else:
            dcrc, dcsize, dusize = crc, csize, usize
            pos = end
        if dcsize != end - start:
            problems.append(f"{name}: descriptor says {dcsize} compressed bytes, data has {end - start}")
        if dusize != len(body) or dcrc != zlib.crc32(body):
            problems.append(f"{name}: descriptor size/CRC do not match the inflated data")
        out.append({"name": name, "local_zip64": zip64, "local_version": ver,
                    "local_flags": flags, "md5": hashlib.md5(body).hexdigest()})
    nxt = data[pos:pos + 4]
    if nxt != b"PK\x01\x02" and not (out == [] and nxt in (b"PK\x05\x06", b"PK\x06\x06")):
        problems.append(f"after the last entry at {pos}: {data[pos:pos + 4]!r}, not the central directory")
    return out


def central_has_zip64(info):
    return local_extra_has_zip64(info.extra)


def main():
    path = sys.argv[1]
    data = open(path, "rb").read()
    problems = []
    report = {"file_md5": hashlib.md5(data).hexdigest(), "entries": [], "problems": problems}
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            if bad is not None:
                problems.append(f"testzip: {bad}")
            infos = z.infolist()
            central = {i.filename: i for i in infos}
            if len(central) != len(infos):
                problems.append("duplicate names in the central directory")
            for i in infos:
                b = z.read(i)
                if zlib.crc32(b) != i.CRC or len(b) != i.file_size:
                    problems.append(f"{i.filename}: CRC or size differs from the central directory")
                report["entries"].append({
                    "name": i.filename,
                    "size": i.file_size,
                    "compress_size": i.compress_size,
                    "crc": i.CRC,
                    "md5": hashlib.md5(b).hexdigest(),
                    "method": i.compress_type,
                    "flags": i.flag_bits,
                    "version_needed": i.extract_version,
                    "create_system": i.create_system,
                    "external_attr": i.external_attr,
                    "date_time": list(i.date_time),
                    "header_offset": i.header_offset,
                    "central_zip64": central_has_zip64(i),
                })
    except Exception as e:  # any reader error is the finding
        problems.append(f"zipfile: {type(e).__name__}: {e}")
        central = {}
    # The ZIP64 end locator sits right before the end record (no comment is ever written).
    report["eocd64"] = data[-22 - 20:-22][:4] == b"PK\x06\x07"
    stream = stream_view(data, central, problems)
    for e, s in zip(report["entries"], stream):
        e["local_zip64"] = s["local_zip64"]
        if (e["name"], e["md5"]) != (s["name"], s["md5"]):
            problems.append(f"{e['name']}: the streaming view differs ({s['name']})")
    if len(stream) != len(report["entries"]):
        problems.append(f"streaming view has {len(stream)} entries, central directory {len(report['entries'])}")
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
