/** Plain-text columns for the bench reports (stdout is read side by side, not parsed). */
export function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => pad(c, widths[i]!))
    .join('  ')
    .trimEnd();
}
