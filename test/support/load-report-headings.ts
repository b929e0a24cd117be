/** The sections every load-test report has, as its Markdown headings. */
export const LOAD_REPORT_HEADINGS = [
  '## Headline',
  '## Success metrics',
  '## Bottleneck',
  '### Chat sessions',
  '### Parallel memory saves',
  '### Peak ramp',
  '## Capacity projection',
  '## Recommendations',
] as const;
