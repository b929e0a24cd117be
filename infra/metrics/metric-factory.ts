import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** One series a read metric exports: its labels and its value. */
export type Series<L extends string> = readonly [labels: Partial<Record<L, string>>, value: number];

/** Makes metrics in one registry, every name under one prefix. */
export interface MetricFactory {
  /** A counter the product increments as things happen. */
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ): Histogram<L>;
  /**
   * A counter the product keeps elsewhere (cache stats, monitor stats): at
   * every scrape it holds exactly the series `read()` yields, so nothing is
   * counted twice and a series that disappears stops being exported.
   */
  readCounter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<Series<L>>,
  ): Counter<L>;
  /** A gauge read the same way (`read` may wait); without labels and with nothing read, it exports 0. */
  readGauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<Series<L>> | Promise<Iterable<Series<L>>>,
  ): Gauge<L>;
}

/** The metric factory of `registry`: every metric registers there alone, its name after `prefix`. */
export function metricFactory(registry: Registry, prefix: string): MetricFactory {
  const base = <L extends string>(name: string, help: string, labelNames: readonly L[]) => ({
    name: `${prefix}${name}`,
    help,
    labelNames,
    registers: [registry],
  });
  return {
    counter: (name, help, labelNames = []) => new Counter(base(name, help, labelNames)),
    histogram: (name, help, labelNames, buckets) =>
      new Histogram({ ...base(name, help, labelNames), buckets }),
    readCounter: (name, help, labelNames, read) =>
      new Counter({
        ...base(name, help, labelNames),
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.inc(labels, value);
        },
      }),
    readGauge: (name, help, labelNames, read) =>
      new Gauge({
        ...base(name, help, labelNames),
        async collect() {
          const series = await read();
          this.reset();
          for (const [labels, value] of series) this.set(labels, value);
        },
      }),
  };
}
