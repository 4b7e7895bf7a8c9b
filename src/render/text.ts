/**
 * Shared helpers for human output: colour (passed in, never global), tables (cli-table3 in
 * kubectl's borderless style), indentation and wrapping.
 */
import Table from 'cli-table3';

export interface RenderOptions {
  readonly color: boolean;
  /** terminal width; goldens use 100 */
  readonly width: number;
  readonly wide: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;
export type Style = keyof typeof CODES;

export function paint(opts: RenderOptions, style: Style, text: string): string {
  return opts.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** A kubectl-style table: upper-case headers, no borders, two spaces between columns. */
/** Cells are laid out as given: wrap long text before (cli-table3 would truncate it). */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const t = new Table({
    head: head.map((h) => h.toUpperCase()),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const r of rows) t.push([...r]);
  return t
    .toString()
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n');
}

/**
 * Wraps prose to `width`, prefixing every line with `indent`; the first line may carry a
 * different prefix (`first`, e.g. a severity label) of which only the visible length counts.
 */
export function wrap(text: string, width: number, indent = '', first?: string): string {
  const out: string[] = [];
  const visible = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  let prefix = first ?? indent;
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && visible(prefix) + line.length + 1 + word.length > width) {
        out.push(prefix + line);
        prefix = indent;
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(prefix + line);
    prefix = indent;
  }
  return out.join('\n');
}

export function indentBlock(text: string, indent: string): string {
  return text
    .replace(/\n+$/, '')
    .split('\n')
    .map((l) => (l ? indent + l : l))
    .join('\n');
}
