import type { SeriesPoint, WebhookStats } from '../queries.ts';
import { formatDuration } from '../format.ts';

export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)}%`;
}

function hourLabel(start: string): string {
  return new Date(start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** A compact bar per hour: the failed share in red on top of the succeeded share. */
export function Sparkline({ points, label }: { points: SeriesPoint[]; label: string }) {
  const width = 96;
  const height = 24;
  const peak = Math.max(1, ...points.map((point) => point.succeeded + point.failed));
  const barWidth = width / Math.max(1, points.length);
  return (
    <svg className="sparkline" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={label}>
      {points.map((point, index) => {
        const ok = (point.succeeded / peak) * height;
        const bad = (point.failed / peak) * height;
        const x = index * barWidth;
        return (
          <g key={point.start}>
            {ok > 0 && <rect x={x} y={height - ok} width={Math.max(1, barWidth - 1)} height={ok} className="bar-ok" />}
            {bad > 0 && <rect x={x} y={height - ok - bad} width={Math.max(1, barWidth - 1)} height={bad} className="bar-failed" />}
          </g>
        );
      })}
      <line x1={0} x2={width} y1={height - 0.5} y2={height - 0.5} className="axis" />
    </svg>
  );
}

/** Attempts per hour (succeeded / failed, stacked bars) with the p95 latency as a line on its own scale. */
export function AttemptsChart({ points }: { points: SeriesPoint[] }) {
  const width = 720;
  const height = 200;
  const top = 12;
  const bottom = 24;
  const plot = height - top - bottom;
  const peak = Math.max(1, ...points.map((point) => point.succeeded + point.failed));
  const latencyPeak = Math.max(1, ...points.map((point) => point.p95LatencyMs ?? 0));
  const step = width / Math.max(1, points.length);
  const latencyPath = points
    .map((point, index) => (point.p95LatencyMs === null || point.p95LatencyMs === undefined ? null : { index, ms: point.p95LatencyMs }))
    .filter((point): point is { index: number; ms: number } => point !== null)
    .map((point, order) => `${order === 0 ? 'M' : 'L'}${(point.index + 0.5) * step},${top + plot - (point.ms / latencyPeak) * plot}`)
    .join(' ');
  const total = points.reduce((sum, point) => sum + point.succeeded + point.failed, 0);
  const failed = points.reduce((sum, point) => sum + point.failed, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Attempts per hour over the last ${points.length} hours: ${total} attempts, ${failed} failed; peak p95 latency ${formatDuration(latencyPeak === 1 && total === 0 ? null : Math.round(latencyPeak))}`}
      >
        {points.map((point, index) => {
          const ok = (point.succeeded / peak) * plot;
          const bad = (point.failed / peak) * plot;
          const x = index * step + step * 0.15;
          const barWidth = step * 0.7;
          return (
            <g key={point.start}>
              <title>
                {`${hourLabel(point.start)}: ${point.succeeded} succeeded, ${point.failed} failed` +
                  (point.p95LatencyMs === null || point.p95LatencyMs === undefined ? '' : `, p95 ${formatDuration(Math.round(point.p95LatencyMs))}`)}
              </title>
              <rect x={index * step} y={top} width={step} height={plot} className="hover-target" />
              {ok > 0 && <rect x={x} y={top + plot - ok} width={barWidth} height={ok} className="bar-ok" />}
              {bad > 0 && <rect x={x} y={top + plot - ok - bad} width={barWidth} height={bad} className="bar-failed" />}
            </g>
          );
        })}
        {latencyPath && <path d={latencyPath} className="latency-line" fill="none" vectorEffect="non-scaling-stroke" />}
        <line x1={0} x2={width} y1={top + plot + 0.5} y2={top + plot + 0.5} className="axis" vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption className="chart-legend small">
        <span>
          <span className="swatch swatch-ok" aria-hidden="true" /> Succeeded
        </span>
        <span>
          <span className="swatch swatch-failed" aria-hidden="true" /> Failed
        </span>
        <span>
          <span className="swatch swatch-latency" aria-hidden="true" /> p95 latency (max {formatDuration(total === 0 ? null : Math.round(latencyPeak))})
        </span>
        {points.length > 0 && (
          <span className="muted">
            {hourLabel(points[0].start)} – now
          </span>
        )}
      </figcaption>
    </figure>
  );
}

/** Success rate and latency of one window. */
export function StatsTiles({ title, stats }: { title: string; stats: WebhookStats }) {
  const round = (ms: number | null) => (ms === null ? null : Math.round(ms));
  return (
    <div className="stats-tile">
      <h3>{title}</h3>
      <dl>
        <div>
          <dt>Success rate</dt>
          <dd>{formatRate(stats.successRate)}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>
            {stats.sent} <span className="muted small">({stats.failed} failed)</span>
          </dd>
        </div>
        <div>
          <dt>p50 latency</dt>
          <dd>{formatDuration(round(stats.p50LatencyMs))}</dd>
        </div>
        <div>
          <dt>p95 latency</dt>
          <dd>{formatDuration(round(stats.p95LatencyMs))}</dd>
        </div>
      </dl>
    </div>
  );
}
