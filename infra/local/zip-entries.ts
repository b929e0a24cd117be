import fs from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

// Reads named files out of a zip (a jar is one) with Node alone: no unzip binary, no Python.

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
/** The end record is 22 bytes plus a comment of at most 65,535. */
const END_SEARCH = 22 + 0xffff;
const STORED = 0;
const DEFLATED = 8;

interface DirectoryEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  headerOffset: number;
}

/**
 * The contents of the zip entries named in `names`, by name. Supports the
 * stored and deflate methods (what jars use), not zip64 or encryption;
 * throws when a name is missing or an entry does not inflate to its recorded size.
 */
export async function readZipEntries(
  file: string,
  names: readonly string[],
): Promise<Map<string, Buffer>> {
  const zip = await fs.readFile(file);
  const entries = centralDirectory(zip);
  const found = new Map<string, Buffer>();
  for (const name of names) {
    const entry = entries.find((e) => e.name === name);
    if (!entry) throw new Error(`${file} has no entry ${name}`);
    found.set(name, entryData(zip, entry, file));
  }
  return found;
}

function centralDirectory(zip: Buffer): DirectoryEntry[] {
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - END_SEARCH); i--) {
    if (zip.readUInt32LE(i) === END_OF_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: DirectoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== DIRECTORY_ENTRY) throw new Error('corrupt zip central directory');
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      headerOffset: zip.readUInt32LE(at + 42),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryData(zip: Buffer, entry: DirectoryEntry, file: string): Buffer {
  const at = entry.headerOffset;
  if (zip.readUInt32LE(at) !== LOCAL_HEADER)
    throw new Error(`${file}: corrupt entry ${entry.name}`);
  // Sizes come from the central directory: a local header may defer them to a data descriptor.
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === STORED) data = Buffer.from(raw);
  else if (entry.method === DEFLATED) data = inflateRawSync(raw);
  else throw new Error(`${file}: entry ${entry.name} uses unsupported method ${entry.method}`);
  if (data.length !== entry.size) {
    throw new Error(`${file}: entry ${entry.name} is ${data.length} bytes, expected ${entry.size}`);
  }
  return data;
}
