// The results table, for stdout and for BENCHMARKS.md.
import fs from 'node:fs';
import os from 'node:os';
import type { Figure } from './harness.ts';

export interface RunInfo {
  command: string;
  date: string;
  database: string;
  seconds: number;
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function machine(): string {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GB, node ${process.version}, ${os.platform()}`;
}

export function markdownTable(figures: Figure[]): string {
  const lines = [
    '| Scenario | Measure | Figure | Baseline (same run) | Ratio | Target |',
    '|---|---|---|---|---|---|',
  ];
  for (const figure of figures) {
    lines.push(
      `| ${figure.scenario} | ${figure.metric} | ${format(figure.value)} ${figure.unit} | ${
        figure.baseline ? `${figure.baseline.label}: ${format(figure.baseline.value)} ${figure.unit}` : ''
      } | ${figure.ratio !== undefined ? format(figure.ratio) : ''} | ${
        figure.target ? `${figure.target.text}: ${figure.target.met ? 'met' : '**not met**'}` : ''
      } |`,
    );
  }
  return lines.join('\n');
}

export function resultsSection(info: RunInfo, figures: Figure[]): string {
  return [
    `### ${info.database}`,
    '',
    `\`${info.command}\` on ${info.date}, ${machine()}; whole run ${info.seconds.toFixed(0)} s.`,
    '',
    markdownTable(figures),
    '',
  ].join('\n');
}

/** Replaces this database's section between the generated-results markers, keeping the hand-written text. */
export function writeResults(file: string, databaseKind: string, section: string): void {
  const start = `<!-- bench:${databaseKind}:start -->`;
  const end = `<!-- bench:${databaseKind}:end -->`;
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${section}${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  fs.writeFileSync(file, pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`);
}
