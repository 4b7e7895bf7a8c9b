/**
 * Reading config dumps from disk: JSON is indexed in fixed-size chunks and parsed lazily from
 * byte ranges (so a dump larger than V8's maximum string length still works); YAML is parsed
 * whole (istioctl-style YAML dumps are small) and then indexed like JSON.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { ConfigDump, type ByteSource, type IndexedDocument } from '../model/config-dump.js';
import { DumpIndexer, type DumpLayout } from '../model/dump-index.js';
import { DataError } from '../model/errors.js';
import { JsonSyntaxError } from '../model/json-scan.js';

const CHUNK = 1 << 20;
/** YAML has no streaming parser here; beyond this size ask for JSON instead. */
const MAX_YAML_BYTES = 256 << 20;

class FileSource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly fd: number,
  ) {}

  read(start: number, end: number): Buffer {
    const buf = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(this.fd, buf, done, buf.length - done, start + done);
      if (n === 0) throw new DataError(this.name, `file shrank while reading (byte ${start + done})`);
      done += n;
    }
    return buf;
  }
}

class MemorySource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly buf: Buffer,
  ) {}

  read(start: number, end: number): Buffer {
    return this.buf.subarray(start, end);
  }
}

function lineAndColumn(source: ByteSource, offset: number): string {
  // Only computed on error: count newlines up to the offset, 1 MiB at a time.
  let line = 1;
  let lastNl = -1;
  for (let pos = 0; pos < offset; pos += CHUNK) {
    const end = Math.min(offset, pos + CHUNK);
    let chunk: Buffer;
    try {
      chunk = source.read(pos, end);
    } catch {
      return `byte ${offset}`;
    }
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) {
      line++;
      lastNl = pos + i;
    }
  }
  return `line ${line}, column ${offset - lastNl}`;
}

function describeLayoutProblem(layout: DumpLayout): string | undefined {
  if (layout.table.size > 0 || layout.configTypes.length > 0) return undefined;
  return 'does not look like an Envoy admin /config_dump or /clusters?format=json output (no "configs" or "cluster_statuses"); capture one with: kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump';
}

/** Indexes an in-memory document (proxy answers, archive members). */
export function indexBuffer(name: string, buf: Buffer, opts: { section?: string; partial?: boolean } = {}): IndexedDocument {
  const source = new MemorySource(name, buf);
  const indexer = new DumpIndexer(opts.section);
  try {
    indexer.push(buf);
    const layout = indexer.finish();
    const problem = describeLayoutProblem(layout);
    if (problem && !opts.section) throw new DataError(name, problem);
    return { source, layout, ...(opts.partial ? { partial: true } : {}) };
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new DataError(name, `invalid JSON at ${lineAndColumn(source, e.offset)}: ${e.message}`);
    throw e;
  }
}

function firstSignificantByte(head: Buffer): number | undefined {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  for (; i < head.length; i++) {
    const c = head[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
  }
  return undefined;
}

function parseYaml(name: string, text: string): Buffer {
  let value: unknown;
  try {
    value = YAML.parse(text, { maxAliasCount: 100 });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? 'unparseable';
    throw new DataError(name, `neither JSON nor valid YAML: ${msg}`);
  }
  if (value === null || typeof value !== 'object') {
    throw new DataError(name, 'does not contain a JSON or YAML document with Envoy configuration');
  }
  return Buffer.from(JSON.stringify(value));
}

/** Indexes one document from a path, or from stdin bytes when `path` is "-". */
export function readDumpDocument(path: string, stdin?: () => Buffer): IndexedDocument {
  if (path === '-') {
    const buf = stdin ? stdin() : fs.readFileSync(0);
    return indexAny('<stdin>', buf);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new DataError(path, `cannot open: ${why}`);
  }
  const stat = fs.fstatSync(fd);
  if (stat.isDirectory()) {
    fs.closeSync(fd);
    throw new DataError(path, 'is a directory, not a config dump file');
  }
  const source = new FileSource(path, fd);
  const buf = Buffer.allocUnsafe(CHUNK);
  let n = fs.readSync(fd, buf, 0, CHUNK, 0);
  if (n === 0) throw new DataError(path, 'is empty');
  const lead = firstSignificantByte(buf.subarray(0, n));
  if (lead !== 0x7b && lead !== 0x5b) {
    // YAML (or garbage): read it whole
    if (stat.size > MAX_YAML_BYTES) throw new DataError(path, `YAML input larger than ${MAX_YAML_BYTES >> 20} MiB; dump it as JSON instead`);
    fs.closeSync(fd);
    const text = fs.readFileSync(path, 'utf8');
    return indexBuffer(path, parseYaml(path, text));
  }
  const indexer = new DumpIndexer();
  let pos = 0;
  try {
    const bomSkip = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    indexer.push(Buffer.from(buf.subarray(0, bomSkip)).fill(0x20));
    indexer.push(buf.subarray(bomSkip, n));
    pos = n;
    while ((n = fs.readSync(fd, buf, 0, CHUNK, pos)) > 0) {
      indexer.push(buf.subarray(0, n));
      pos += n;
    }
    const layout = indexer.finish();
    const problem = describeLayoutProblem(layout);
    if (problem) throw new DataError(path, problem);
    return { source, layout };
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      const where = lineAndColumn(source, e.offset);
      throw new DataError(path, `invalid JSON at ${where}: ${e.message}`);
    }
    throw e;
  }
}

function indexAny(name: string, buf: Buffer): IndexedDocument {
  const lead = firstSignificantByte(buf.subarray(0, 64));
  if (lead === undefined) throw new DataError(name, 'is empty');
  return lead === 0x7b || lead === 0x5b ? indexBuffer(name, buf) : indexBuffer(name, parseYaml(name, buf.toString('utf8')));
}

/** Loads one proxy's configuration from a config dump and optional companion files. */
export function loadConfigDump(paths: readonly string[], stdin?: () => Buffer): ConfigDump {
  return new ConfigDump(paths.map((p) => readDumpDocument(p, stdin)));
}
