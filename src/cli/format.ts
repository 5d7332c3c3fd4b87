/** Small text helpers for human output. */

/**
 * 1234567 -> "1,234,567". Not toLocaleString: its first call loads ICU data, about 20 ms that every
 * command would pay.
 */
export function groupDigits(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [int, frac] = String(Math.abs(n)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac ? '.' + frac : ''}`;
}

export function formatBytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  // Whole bytes: sizes are, and a rate of 664.1791044776119 B/s says nothing more than 664 B/s.
  let v = Math.abs(n) < 1000 ? Math.round(Math.abs(n)) : Math.abs(n);
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${sign}${u === 0 ? v : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** Bytes per second, as formatBytes rounds them; 0 for a rate that cannot be measured yet. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Number.isFinite(bytesPerSecond) ? bytesPerSecond : 0)}/s`;
}

/**
 * A change, always with its sign: "+1,233", "-1,233", "±0"; `format` shows the magnitude
 * (formatBytes: "+8 B"). One minus sign everywhere: ASCII, as typed and as pasted into a search.
 */
export function formatSigned(n: number, format: (n: number) => string = groupDigits): string {
  return `${n > 0 ? '+' : n < 0 ? '-' : '±'}${format(Math.abs(n))}`;
}

export function formatCount(n: number, noun: string, plural = noun + 's'): string {
  return `${groupDigits(n)} ${n === 1 ? noun : plural}`;
}

export function plural(n: number, noun: string, pluralNoun = noun + 's'): string {
  return n === 1 ? noun : pluralNoun;
}

/** Lists longer than `max` are cut, with a count of what was left out. */
export function limitList(items: string[], max: number, prefix = '    '): string[] {
  const lines = items.slice(0, max).map((i) => prefix + i);
  if (items.length > max) lines.push(`${prefix}… and ${groupDigits(items.length - max)} more`);
  return lines;
}

/**
 * A line for stderr: every error dvs prints starts with `dvs: error:`, every warning with
 * `dvs: warning:` (as Git's `fatal:`/`warning:`), so scripts and people can grep them; the hint follows.
 */
export function errorNote(message: string, hint?: string): string {
  return `dvs: error: ${message}${hint ? `\n  hint: ${hint}` : ''}`;
}

export function warningNote(message: string, hint?: string): string {
  return `dvs: warning: ${message}${hint ? `\n  hint: ${hint}` : ''}`;
}
