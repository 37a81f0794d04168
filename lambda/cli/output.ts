import Table from 'cli-table3';

/** Prints rows as a plain table (no colours: logs and pipes stay readable). */
export function renderTable(head: string[], rows: (string | number | undefined)[][]): string {
  const table = new Table({ head, style: { head: [], border: [] }, wordWrap: false });
  for (const row of rows) table.push(row.map((c) => (c === undefined ? '' : String(c))));
  return table.toString();
}

export function humanBytes(n: number | undefined): string {
  if (n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * Commander's errors as one line: "error: unknown command 'runs' (did you mean run?)" rather
 * than the suggestion on a line of its own.
 */
export function oneLineError(text: string): string {
  const line = text
    .replace(/\s*\n\(Did you mean (.+)\)\s*/g, ' (did you mean $1)')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  return `${line}\n`;
}

/** The answer a failed command gives on stdout under `--json`. */
export function errorAnswer(message: string, input: unknown): string {
  return JSON.stringify({ error: { message, input: input ?? null } });
}
