// The Windows node.exe from npm is Authenticode-signed; injecting the application changes the
// file, so that signature would no longer match. Remove it first (what `signtool remove /s`
// does): the executable is then cleanly unsigned, and a release runner may sign the result.
import fs from 'node:fs';

/** Copies a PE file from src to dst without its certificate table. Returns whether one was removed. */
export function copyWithoutAuthenticode(src, dst) {
  let buf = fs.readFileSync(src);
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error(`${src}: not a PE file`);
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  const dataDirs = opt + (magic === 0x20b ? 112 : magic === 0x10b ? 96 : NaN);
  if (Number.isNaN(dataDirs)) throw new Error(`${src}: unknown optional header magic 0x${magic.toString(16)}`);
  const certEntry = dataDirs + 4 * 8; // IMAGE_DIRECTORY_ENTRY_SECURITY
  const certOffset = buf.readUInt32LE(certEntry); // a file offset, not an RVA
  const certSize = buf.readUInt32LE(certEntry + 4);
  let removed = false;
  if (certOffset !== 0 && certSize !== 0) {
    if (certOffset + certSize < buf.length - 8) throw new Error(`${src}: the certificate table is not at the end of the file; not touching it`);
    buf = Buffer.from(buf.subarray(0, certOffset));
    buf.writeUInt32LE(0, certEntry);
    buf.writeUInt32LE(0, certEntry + 4);
    buf.writeUInt32LE(0, opt + 64); // CheckSum: not checked for executables; stale once the file changes
    removed = true;
  }
  fs.writeFileSync(dst, buf);
  return removed;
}
