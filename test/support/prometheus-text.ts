/** A Prometheus text exposition: every series as `name{labels}` -> value, and each declared family's type. */
export function parseExposition(text: string): {
  families: Map<string, string>;
  values: Map<string, number>;
} {
  const families = new Map<string, string>();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) families.set(type[1]!, type[2]!);
    else if (line && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      values.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { families, values };
}

/** The sum over every series of `name` that carries all of `labels` (in any order; others may differ). */
export function sumSeries(
  values: Map<string, number>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const [series, value] of values) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => series.includes(w))) sum += value;
  }
  return sum;
}
