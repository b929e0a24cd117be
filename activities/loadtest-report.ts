import fs from 'node:fs/promises';
import path from 'node:path';
import { analyze } from '../loadtest/analyze.ts';
import { renderMarkdown } from '../loadtest/render.ts';
import type { CapacityAssumptions, LoadReport, LoadTestMeasurements } from '../loadtest/types.ts';
import { checkReportId } from './loadtest-inputs.ts';

export interface StoreLoadReportInput {
  measurements: LoadTestMeasurements;
  assumptions?: Partial<CapacityAssumptions>;
}

export interface StoredLoadReport {
  markdownPath: string;
  jsonPath: string;
  headline: LoadReport['headline'];
  successMetrics: LoadReport['successMetrics'];
  capacity: LoadReport['capacity']['resources'];
  recommendations: number;
}

/**
 * Analyses the run and writes `report.md` and `report.json` under
 * `<reportsDir>/<workflow id>/`; the run's assumptions override the worker's.
 */
export async function writeLoadReport(
  reportsDir: string,
  assumptions: Partial<CapacityAssumptions> | undefined,
  input: StoreLoadReportInput,
): Promise<StoredLoadReport> {
  const id = input.measurements.workflowId;
  checkReportId(id);
  const report = analyze(input.measurements, { ...assumptions, ...input.assumptions });
  const dir = path.join(reportsDir, id);
  await fs.mkdir(dir, { recursive: true });
  const markdownPath = path.join(dir, 'report.md');
  const jsonPath = path.join(dir, 'report.json');
  await fs.writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(markdownPath, renderMarkdown(report));
  return {
    markdownPath,
    jsonPath,
    headline: report.headline,
    successMetrics: report.successMetrics,
    capacity: report.capacity.resources,
    recommendations: report.recommendations.length,
  };
}
