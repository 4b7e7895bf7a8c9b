/**
 * A streaming JSON *structure* scanner.
 *
 * It reads a document chunk by chunk and reports where values begin and end (absolute byte
 * offsets) without building them, so a config dump of any size (also one larger than V8's
 * maximum string length, ~512 MiB) can be indexed in constant memory and its few interesting
 * resources parsed later from their byte ranges. Where the visitor has a node, the grammar is
 * fully validated and keys are decoded; a container the visitor is not interested in is skipped
 * by a tight loop that only tracks bracket depth and strings (its contents are validated by
 * JSON.parse if it is ever loaded; truncation is always detected).
 */

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** What the visitor wants to know about a value that is about to be scanned. */
export interface ValueInterest<N> {
  /** Node handed to the visitor for this value's children (objects/arrays). undefined = skip quietly. */
  readonly node: N | undefined;
  /** Report the raw text of this value if it is a primitive (string, number, literal). */
  readonly capture: boolean;
}

/**
 * The scanner asks the visitor, for every key of an object it is interested in, what the key's
 * value means; arrays pass their node on to their elements.
 */
export interface ScanVisitor<N> {
  /** Interest in the value of `key` inside an object whose node is `parent`. */
  child(parent: N, key: string): ValueInterest<N>;
  /** Interest in an element of an array whose node is `parent`. */
  element(parent: N): ValueInterest<N>;
  /** An object or array with a node opened at `offset`. */
  open?(node: N, offset: number, isArray: boolean): void;
  /** An object or array with a node closed; `end` is one past its last byte. */
  close?(node: N, end: number, isArray: boolean): void;
  /** A captured primitive (its interest had `capture` and a node): raw JSON text, strings keep their quotes. */
  primitive?(node: N, raw: string): void;
  /**
   * A captured string, decoded (escapes resolved). When the visitor has this method, captured
   * strings come here instead of to `primitive` (no quoting and re-parsing).
   */
  string?(node: N, value: string): void;
  /**
   * A captured string without escapes that lies in one chunk, as the bytes between its quotes
   * (UTF-8): the visitor copies what it keeps, and no string is made. When absent (or the string
   * has escapes, or spans chunks), `string` / `primitive` get it.
   */
  stringBytes?(node: N, buf: Buffer, start: number, end: number): void;
  /** A captured number or literal that lies in one chunk, as bytes (else `primitive`). */
  primitiveBytes?(node: N, buf: Buffer, start: number, end: number): void;
}

const enum Ch {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  LBrace = 0x7b,
  RBrace = 0x7d,
  LBracket = 0x5b,
  RBracket = 0x5d,
  Space = 0x20,
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
}

const enum St {
  /** expecting a value */
  Value,
  /** after `{`: a key or `}` */
  KeyOrEnd,
  /** after `,` in an object: a key */
  Key,
  /** after a key: `:` */
  Colon,
  /** after a value: `,` or the closing bracket */
  CommaOrEnd,
  /** after `[`: a value or `]` */
  ValueOrEnd,
  /** top-level value finished */
  Done,
}

interface Frame<N> {
  isArray: boolean;
  node: N | undefined;
  /** interest in the value of the current key/element, decided when the key was read */
  pending: ValueInterest<N> | undefined;
}

const SKIP: ValueInterest<never> = { node: undefined, capture: false };

/**
 * Byte classes for the scanning loops: 0 = nothing to do. In skipped subtrees only brackets and
 * quotes matter; a primitive is digits, '-', '+', '.', and letters (true/false/null, exponents).
 */
const C_OPEN = 1;
const C_CLOSE = 2;
const C_QUOTE = 3;
const SKIP_CLASS = new Uint8Array(256);
SKIP_CLASS[Ch.LBrace] = SKIP_CLASS[Ch.LBracket] = C_OPEN;
SKIP_CLASS[Ch.RBrace] = SKIP_CLASS[Ch.RBracket] = C_CLOSE;
SKIP_CLASS[Ch.Quote] = C_QUOTE;

const PRIMITIVE_BYTE = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) PRIMITIVE_BYTE[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) PRIMITIVE_BYTE[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) PRIMITIVE_BYTE[c] = 1;
PRIMITIVE_BYTE[0x2d] = PRIMITIVE_BYTE[0x2b] = PRIMITIVE_BYTE[0x2e] = 1;

const PRIMITIVE = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** The JSON grammar of a number or literal, checked on bytes (what PRIMITIVE checks on text). */
function validPrimitive(buf: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  const c0 = buf[start]!;
  if (c0 === 0x74) return n === 4 && buf[start + 1] === 0x72 && buf[start + 2] === 0x75 && buf[start + 3] === 0x65; // true
  if (c0 === 0x66) return n === 5 && buf[start + 1] === 0x61 && buf[start + 2] === 0x6c && buf[start + 3] === 0x73 && buf[start + 4] === 0x65; // false
  if (c0 === 0x6e) return n === 4 && buf[start + 1] === 0x75 && buf[start + 2] === 0x6c && buf[start + 3] === 0x6c; // null
  let i = start;
  if (buf[i] === 0x2d) i++;
  if (i >= end) return false;
  if (buf[i] === 0x30) i++;
  else if (isDigit(buf[i]!)) while (i < end && isDigit(buf[i]!)) i++;
  else return false;
  if (i < end && buf[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(buf[i]!)) return false;
    while (i < end && isDigit(buf[i]!)) i++;
  }
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    if (i >= end || !isDigit(buf[i]!)) return false;
    while (i < end && isDigit(buf[i]!)) i++;
  }
  return i === end;
}

/** Keys are few and repeat endlessly: decoded ASCII keys are kept by hash (checked byte by byte on a hit). */
const KEY_CACHE_LIMIT = 4096;

export class JsonStructureScanner<N> {
  private readonly stack: Frame<N>[] = [];
  private state: St = St.Value;
  private rootInterest: ValueInterest<N>;
  /** absolute offset of the first byte of the current chunk */
  private base = 0;
  // string-in-progress state (strings may span chunks)
  private inString = false;
  private stringIsKey = false;
  private stringWanted = false;
  /** pieces of a wanted string that spans chunks or contains escapes */
  private stringParts: Buffer[] = [];
  /** where the wanted string started in the current chunk (-1: it began in an earlier chunk) */
  private stringStart = -1;
  private stringHasEscape = false;
  private escapePending = false;
  // skip mode: inside a container nobody is interested in, tracking only depth and strings
  private skipDepth = 0;
  // primitive-in-progress state
  private inPrimitive = false;
  private primitiveParts: string[] = [];
  private primitiveStart = 0;
  private readonly keyCache = new Map<number, string>();
  private readonly wantsStrings: boolean;
  private readonly wantsBytes: boolean;

  constructor(
    private readonly visitor: ScanVisitor<N>,
    root: N,
  ) {
    this.rootInterest = { node: root, capture: false };
    this.wantsStrings = typeof visitor.string === 'function';
    this.wantsBytes = typeof visitor.stringBytes === 'function' && typeof visitor.primitiveBytes === 'function';
  }

  get offset(): number {
    return this.base;
  }

  /** Feeds the next chunk. */
  push(chunk: Buffer): void {
    const buf = chunk;
    const len = buf.length;
    let i = 0;
    let nextBackslash = -2;
    while (i < len) {
      if (this.skipDepth > 0 && !this.inString) {
        // tight loop over an uninteresting subtree: brackets and strings only; strings that end
        // in this chunk are stepped over here, escapes included
        let depth = this.skipDepth;
        let j = i;
        let openString = false;
        for (; j < len; j++) {
          const cls = SKIP_CLASS[buf[j]!]!;
          if (cls === 0) continue;
          if (cls === C_QUOTE) {
            // the closing quote: the next quote not escaped, i.e. not preceded by an odd run of
            // backslashes (the run cannot reach back past the opening quote at j)
            let k = j + 1;
            for (;;) {
              k = buf.indexOf(Ch.Quote, k);
              if (k < 0 || buf[k - 1] !== Ch.Backslash) break;
              let run = 1;
              while (buf[k - 1 - run] === Ch.Backslash) run++;
              if ((run & 1) === 0) break;
              k++;
            }
            if (k < 0) {
              // the string goes on in the next chunk, whose first byte is escaped when this one
              // ends on an odd run of backslashes
              let run = 0;
              while (len - 1 - run > j && buf[len - 1 - run] === Ch.Backslash) run++;
              openString = true;
              this.escapePending = (run & 1) === 1;
              break;
            }
            j = k;
          } else if (cls === C_OPEN) depth++;
          else if (--depth === 0) break;
        }
        this.skipDepth = depth;
        if (openString) {
          this.inString = true;
          this.stringIsKey = false;
          this.stringWanted = false;
          this.stringHasEscape = false;
          this.stringStart = -1;
          i = len;
          break;
        }
        if (j === len) {
          i = len;
          break;
        }
        // the skipped container is complete
        i = j + 1;
        this.afterValue();
        continue;
      }
      if (this.inString) {
        if (this.escapePending) {
          // the previous chunk ended on a backslash: this byte is the escaped one
          this.escapePending = false;
          i++;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = buf.indexOf(Ch.Backslash, i);
        const q = buf.indexOf(Ch.Quote, i);
        if (nextBackslash !== -1 && (q === -1 || nextBackslash < q)) {
          // an escape comes first: skip it and the escaped byte, then look again
          this.stringHasEscape = true;
          if (nextBackslash + 1 >= len) {
            this.escapePending = true;
            i = len;
          } else i = nextBackslash + 2;
          continue;
        }
        if (q === -1) {
          // the string continues in the next chunk (its bytes are kept after the loop)
          i = len;
          break;
        }
        let text: string | undefined;
        if (this.stringWanted) {
          if (this.stringStart >= 0 && this.stringParts.length === 0) text = buf.toString('utf8', this.stringStart, q);
          else {
            this.stringParts.push(buf.subarray(this.stringStart >= 0 ? this.stringStart : 0, q));
            text = Buffer.concat(this.stringParts).toString('utf8');
          }
        }
        i = q + 1;
        this.finishString(text, this.base + q);
        continue;
      }
      if (this.inPrimitive) {
        let j = i;
        while (j < len && PRIMITIVE_BYTE[buf[j]!] === 1) j++;
        this.primitiveParts.push(buf.toString('latin1', i, j));
        if (j === len) {
          i = len;
          break;
        }
        i = j;
        this.finishPrimitive();
        continue;
      }
      const c = buf[i]!;
      if (c === Ch.Space || c === Ch.Lf || c === Ch.Cr || c === Ch.Tab) {
        i++;
        continue;
      }
      const at = this.base + i;
      switch (this.state) {
        case St.Value:
        case St.ValueOrEnd:
          if (c === Ch.RBracket && this.state === St.ValueOrEnd) {
            this.closeContainer(true, at);
            i++;
            continue;
          }
          i = this.beginValue(buf, i, c, at);
          continue;
        case St.KeyOrEnd:
        case St.Key: {
          if (c === Ch.RBrace && this.state === St.KeyOrEnd) {
            this.closeContainer(false, at);
            i++;
            continue;
          }
          if (c !== Ch.Quote) throw new JsonSyntaxError(`expected a key string, found ${describe(c)}`, at);
          const end = this.fastKey(buf, i + 1);
          if (end >= 0) {
            i = end + 1;
            continue;
          }
          this.startString(true, i + 1);
          i++;
          continue;
        }
        case St.Colon:
          if (c !== Ch.Colon) throw new JsonSyntaxError(`expected ':' after a key, found ${describe(c)}`, at);
          this.state = St.Value;
          i++;
          continue;
        case St.CommaOrEnd: {
          const top = this.stack[this.stack.length - 1];
          if (!top) throw new JsonSyntaxError(`unexpected ${describe(c)} after the end of the document`, at);
          if (c === Ch.Comma) {
            this.state = top.isArray ? St.Value : St.Key;
            i++;
            continue;
          }
          if (c === (top.isArray ? Ch.RBracket : Ch.RBrace)) {
            this.closeContainer(top.isArray, at);
            i++;
            continue;
          }
          throw new JsonSyntaxError(
            `expected ',' or '${top.isArray ? ']' : '}'}', found ${describe(c)}`,
            at,
          );
        }
        case St.Done:
          throw new JsonSyntaxError(`unexpected ${describe(c)} after the end of the document`, at);
      }
    }
    if (this.inString) {
      // the string goes on in the next chunk: keep this chunk's part (the caller may reuse the buffer)
      const from = this.stringStart >= 0 ? this.stringStart : 0;
      if (this.stringWanted && from < len) this.stringParts.push(Buffer.from(buf.subarray(from)));
      this.stringStart = -1;
    }
    this.base += len;
  }

  /** Signals end of input; throws if the document is incomplete. */
  end(): void {
    if (this.inPrimitive) this.finishPrimitive();
    if (this.inString) throw new JsonSyntaxError('input ended inside a string (truncated file?)', this.base);
    if (this.skipDepth > 0) throw new JsonSyntaxError(`input ended inside ${this.stack.length + this.skipDepth} unclosed object(s)/array(s) (truncated file?)`, this.base);
    if (this.state !== St.Done) {
      const what = this.stack.length
        ? `inside ${this.stack.length} unclosed object(s)/array(s)`
        : 'before any JSON value';
      throw new JsonSyntaxError(`input ended ${what} (truncated file?)`, this.base);
    }
  }

  private currentInterest(): ValueInterest<N> {
    const top = this.stack[this.stack.length - 1];
    if (!top) return this.rootInterest;
    return top.pending ?? SKIP;
  }

  /**
   * A key that ends in this chunk, is ASCII and has no escape (nearly all of them): decoded from
   * the key cache and handed to the visitor. Returns the index of its closing quote, or -1 to
   * take the general path.
   */
  private fastKey(buf: Buffer, start: number): number {
    const len = buf.length;
    let h = 0;
    let k = start;
    for (; k < len; k++) {
      const c = buf[k]!;
      if (c === Ch.Quote) break;
      if (c === Ch.Backslash || c >= 0x80) return -1;
      h = (Math.imul(h, 31) + c) | 0;
    }
    if (k >= len) return -1;
    const n = k - start;
    h = (Math.imul(h, 31) + n) | 0;
    let key = this.keyCache.get(h);
    if (key !== undefined && key.length === n) {
      for (let x = 0; x < n; x++) {
        if (key.charCodeAt(x) !== buf[start + x]) {
          key = undefined;
          break;
        }
      }
    } else key = undefined;
    if (key === undefined) {
      key = buf.toString('latin1', start, k);
      if (this.keyCache.size < KEY_CACHE_LIMIT && !this.keyCache.has(h)) this.keyCache.set(h, key);
    }
    const top = this.stack[this.stack.length - 1]!;
    top.pending = top.node !== undefined ? this.visitor.child(top.node, key) : SKIP;
    this.state = St.Colon;
    return k;
  }

  private beginValue(buf: Buffer, i: number, c: number, at: number): number {
    const interest = this.currentInterest();
    if ((c === Ch.LBrace || c === Ch.LBracket) && interest.node === undefined) {
      this.skipDepth = 1;
      return i + 1;
    }
    if (c === Ch.LBrace || c === Ch.LBracket) {
      const isArray = c === Ch.LBracket;
      const frame: Frame<N> = { isArray, node: interest.node, pending: undefined };
      this.stack.push(frame);
      if (interest.node !== undefined) {
        this.visitor.open?.(interest.node, at, isArray);
        if (isArray) frame.pending = this.visitor.element(interest.node);
      } else if (isArray) frame.pending = SKIP;
      this.state = isArray ? St.ValueOrEnd : St.KeyOrEnd;
      return i + 1;
    }
    const len = buf.length;
    if (c === Ch.Quote) {
      // fast path: a string that ends in this chunk
      let k = i + 1;
      let escaped = false;
      for (; k < len; k++) {
        const d = buf[k]!;
        if (d === Ch.Quote) break;
        if (d === Ch.Backslash) {
          escaped = true;
          k++;
        }
      }
      if (k >= len) {
        this.startString(false, i + 1);
        return i + 1;
      }
      if (interest.capture && interest.node !== undefined) {
        if (!escaped && this.wantsBytes) {
          this.visitor.stringBytes!(interest.node, buf, i + 1, k);
          this.afterValue();
          return k + 1;
        }
        const text = buf.toString('utf8', i + 1, k);
        this.stringHasEscape = escaped;
        this.stringIsKey = false;
        this.stringWanted = true;
        this.finishString(text, this.base + k);
      } else this.afterValue();
      return k + 1;
    }
    if (PRIMITIVE_BYTE[c] === 1) {
      let j = i + 1;
      while (j < len && PRIMITIVE_BYTE[buf[j]!] === 1) j++;
      if (j < len) {
        // the whole primitive is in this chunk
        if (!validPrimitive(buf, i, j)) throw new JsonSyntaxError(`invalid literal '${buf.toString('latin1', i, Math.min(j, i + 40))}'`, at);
        if (interest.capture && interest.node !== undefined) {
          if (this.wantsBytes) this.visitor.primitiveBytes!(interest.node, buf, i, j);
          else this.visitor.primitive?.(interest.node, buf.toString('latin1', i, j));
        }
        this.afterValue();
        return j;
      }
      this.inPrimitive = true;
      this.primitiveParts = [];
      this.primitiveStart = at;
      return i;
    }
    throw new JsonSyntaxError(`expected a value, found ${describe(c)}`, at);
  }

  /** `at` is the index in the current chunk of the first byte after the opening quote. */
  private startString(isKey: boolean, at: number): void {
    this.inString = true;
    this.stringIsKey = isKey;
    this.escapePending = false;
    this.stringHasEscape = false;
    this.stringStart = at;
    if (this.stringParts.length) this.stringParts = [];
    if (isKey) {
      const top = this.stack[this.stack.length - 1];
      this.stringWanted = top?.node !== undefined;
    } else {
      this.stringWanted = this.currentInterest().capture;
    }
  }

  /** `text`: the raw characters between the quotes (escapes not decoded), when wanted. */
  private finishString(text: string | undefined, quoteOffset: number): void {
    this.inString = false;
    if (this.stringParts.length) this.stringParts = [];
    if (this.skipDepth > 0) return;
    let decoded = text;
    if (text !== undefined && this.stringHasEscape) {
      try {
        decoded = JSON.parse(`"${text}"`) as string;
      } catch {
        throw new JsonSyntaxError(`invalid escape in string "${text.slice(0, 40)}"`, quoteOffset);
      }
    }
    if (this.stringIsKey) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.node !== undefined && decoded !== undefined) {
        top.pending = this.visitor.child(top.node, decoded);
      } else {
        top.pending = SKIP;
      }
      this.state = St.Colon;
      return;
    }
    if (text !== undefined) {
      const node = this.currentInterest().node;
      if (node !== undefined) {
        if (this.wantsStrings) this.visitor.string!(node, decoded!);
        else this.visitor.primitive?.(node, `"${text}"`);
      }
    }
    this.afterValue();
  }

  private finishPrimitive(): void {
    this.inPrimitive = false;
    const text = this.primitiveParts.join('');
    this.primitiveParts = [];
    if (!PRIMITIVE.test(text)) throw new JsonSyntaxError(`invalid literal '${text.slice(0, 40)}'`, this.primitiveStart);
    const interest = this.currentInterest();
    if (interest.capture && interest.node !== undefined) this.visitor.primitive?.(interest.node, text);
    this.afterValue();
  }

  private closeContainer(isArray: boolean, at: number): void {
    const frame = this.stack.pop();
    if (!frame || frame.isArray !== isArray) throw new JsonSyntaxError(`unbalanced '${isArray ? ']' : '}'}'`, at);
    if (frame.node !== undefined) this.visitor.close?.(frame.node, at + 1, isArray);
    this.afterValue();
  }

  private afterValue(): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.state = St.Done;
      return;
    }
    if (top.isArray && top.node !== undefined) top.pending = this.visitor.element(top.node);
    this.state = St.CommaOrEnd;
  }
}

function describe(c: number): string {
  if (c >= 0x21 && c <= 0x7e) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
