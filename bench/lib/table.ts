/** Prints rows as a Markdown table: the first row is the header, the first column left-aligned. */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(
      `| ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join(' | ')} |`,
    );
    if (i === 0) {
      console.log(
        `|${widths.map((w, j) => `${j === 0 ? ':' : '-'}${'-'.repeat(w)}${j === 0 ? '-' : ':'}`).join('|')}|`,
      );
    }
  }
}
