/** Draws one visual's data: a chart, a map on a plain projected canvas, a KPI tile or a table. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { VisualData } from '../visuals.ts';
import { Chart, type ChartOption } from './chart.tsx';
import { fmt, settings } from './api.ts';
import { fitView, niceDistance, tilesFor, type PlacedTile } from '../map-tiles.ts';

/** Escapes text for the HTML of a chart tooltip (labels are data, never markup). */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PALETTE = ['#0b6bcb', '#e8590c', '#2f9e44', '#ae3ec9', '#c92a2a', '#1098ad', '#f08c00', '#5c7cfa'];

function lineOption(data: Extract<VisualData, { kind: 'line' }>): ChartOption {
  const series: unknown[] = [];
  data.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    series.push({
      name: s.name,
      type: 'line',
      showSymbol: false,
      sampling: 'lttb',
      color,
      data: s.points.map((p) => [p[0], p[1]]),
    });
    // The min-max band of each bucket keeps peaks in sight however wide the buckets are.
    if (s.points.some((p) => p[2] !== null && p[3] !== null && p[2] !== p[3])) {
      const stack = `band-${i}`;
      series.push(
        {
          name: s.name,
          type: 'line',
          stack,
          symbol: 'none',
          lineStyle: { opacity: 0 },
          tooltip: { show: false },
          data: s.points.map((p) => [p[0], p[2]]),
        },
        {
          name: s.name,
          type: 'line',
          stack,
          symbol: 'none',
          lineStyle: { opacity: 0 },
          areaStyle: { color, opacity: 0.12 },
          tooltip: { show: false },
          data: s.points.map((p) => [p[0], p[3] === null || p[2] === null ? null : p[3] - p[2]]),
        },
      );
    }
  });
  return {
    animation: false,
    color: PALETTE,
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 48, right: 16, top: 32, bottom: 48 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', scale: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 8 }],
    series,
  };
}

/** Grid margins of the map (pixels). */
const MAP_GRID = { left: 80, right: 80, top: 16, bottom: 52 };

function mapOption(
  data: Extract<VisualData, { kind: 'map' }>,
  width: number,
  height: number,
  tileUrl: string | null,
): { option: ChartOption; tiles: PlacedTile[] } {
  const values = data.points.map((p) => p.value ?? 0);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const plotW = Math.max(50, width - MAP_GRID.left - MAP_GRID.right);
  const plotH = Math.max(50, height - MAP_GRID.top - MAP_GRID.bottom);
  const view = fitView(data.points, plotW, plotH, !!tileUrl);
  const scaleM = niceDistance(plotW * view.metresPerPixel * 0.2);
  const scalePx = scaleM / view.metresPerPixel;
  const size = (v: number): number => (hi > lo ? 12 + ((v - lo) / (hi - lo)) * 28 : 24);
  const distanceLabel = scaleM >= 1000 ? `${scaleM / 1000} km` : `${scaleM} m`;
  const tiles = tileUrl ? tilesFor(view, tileUrl) : [];
  const option: ChartOption = {
    animation: false,
    tooltip: {
      formatter: (p: { data: [number, number, number, string, number] }) =>
        `${escapeHtml(p.data[3])}<br/>${fmt(p.data[2])} · ${p.data[4].toFixed(5)}, ${p.data[0].toFixed(5)}`,
    },
    grid: MAP_GRID,
    xAxis: {
      type: 'value',
      min: view.xMin,
      max: view.xMax,
      name: 'longitude',
      nameLocation: 'middle',
      nameGap: 28,
      axisLabel: {
        formatter: (v: number) => v.toFixed(4),
        hideOverlap: true,
        showMinLabel: false,
        showMaxLabel: false,
      },
    },
    yAxis: {
      type: 'value',
      min: view.yMin,
      max: view.yMax,
      name: 'latitude',
      nameLocation: 'middle',
      nameGap: 60,
      axisLabel: {
        formatter: (v: number) => view.latitude(v).toFixed(4),
        showMinLabel: false,
        showMaxLabel: false,
      },
    },
    visualMap: {
      min: lo,
      max: hi === lo ? lo + 1 : hi,
      dimension: 2,
      right: 0,
      top: 'middle',
      itemHeight: 100,
      calculable: false,
      inRange: { color: ['#2b8cbe', '#fdae61', '#d7191c'] },
      text: [fmt(hi), fmt(lo)],
    },
    graphic: [
      {
        type: 'group',
        left: MAP_GRID.left + 8,
        bottom: MAP_GRID.bottom + 8,
        children: [
          { type: 'rect', shape: { x: 0, y: 8, width: scalePx, height: 4 }, style: { fill: '#334' } },
          {
            type: 'text',
            x: 0,
            y: -6,
            style: { text: distanceLabel, fill: '#334', font: '11px sans-serif' },
          },
        ],
      },
      {
        type: 'text',
        right: MAP_GRID.right,
        bottom: 4,
        style: {
          text: tileUrl
            ? `Web Mercator; tiles from ${new URL(tileUrl.replace(/[{}]/g, '')).host}`
            : 'equirectangular; no tile server',
          fill: '#889',
          font: '10px sans-serif',
        },
      },
    ],
    series: [
      {
        type: 'scatter',
        data: data.points.map((p) => [...view.project(p.lat, p.lon), p.value ?? 0, p.label, p.lat]),
        symbolSize: (v: [number, number, number]) => size(v[2]),
        label: {
          show: true,
          formatter: (p: { data: [number, number, number, string] }) => p.data[3],
          position: 'right',
          fontSize: 10,
          color: '#334',
        },
      },
    ],
  };
  return { option, tiles };
}

function barOption(data: Extract<VisualData, { kind: 'bar' }>): ChartOption {
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    grid: { left: 56, right: 16, top: 16, bottom: 56 },
    xAxis: {
      type: 'category',
      data: data.bars.map((b) => b.name),
      axisLabel: { rotate: data.bars.length > 8 ? 30 : 0 },
    },
    yAxis: { type: 'value' },
    series: [
      {
        type: 'bar',
        color: PALETTE[0],
        data: data.bars.map((b) => b.value),
        label: { show: data.bars.length <= 12, position: 'top' },
      },
    ],
  };
}

function histogramOption(data: Extract<VisualData, { kind: 'histogram' }>): ChartOption {
  // Enough decimals that neighbouring bin edges differ (0.40–0.46, not 0.4–0.4).
  const first = data.bins[0];
  const width = first ? Math.abs(first.to - first.from) : 1;
  const digits = width > 0 ? Math.min(6, Math.max(0, Math.ceil(-Math.log10(width)))) : 1;
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    grid: { left: 56, right: 16, top: 16, bottom: 40 },
    xAxis: { type: 'category', data: data.bins.map((b) => `${fmt(b.from, digits)}–${fmt(b.to, digits)}`) },
    yAxis: { type: 'value', name: 'count' },
    series: [{ type: 'bar', barCategoryGap: '2%', color: PALETTE[1], data: data.bins.map((b) => b.count) }],
  };
}

/** The drawing of one visual's data. */
export function VisualView(props: { data: VisualData; height?: number }) {
  const { data } = props;
  const height = props.height ?? 260;
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(600);
  useEffect(() => {
    if (!box.current) return undefined;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.round(entry.contentRect.width));
    });
    observer.observe(box.current);
    return () => observer.disconnect();
  }, []);
  const map = useMemo(
    () => (data.kind === 'map' ? mapOption(data, width, height, settings.tileUrl) : undefined),
    [data, width, height],
  );
  const option = useMemo((): ChartOption | undefined => {
    switch (data.kind) {
      case 'line':
        return lineOption(data);
      case 'map':
        return map?.option;
      case 'bar':
        return barOption(data);
      case 'histogram':
        return histogramOption(data);
      default:
        return undefined;
    }
  }, [data, map]);
  if (data.kind === 'kpi')
    return (
      <div class="kpi" data-value={data.value ?? ''}>
        <div class="kpi-value">{fmt(data.value)}</div>
        <div class="kpi-label">{data.label}</div>
      </div>
    );
  if (data.kind === 'table')
    return (
      <div class="table-wrap">
        <ResultTable columns={data.columns} rows={data.rows} />
        {data.truncated && <p class="note">Showing the first {data.rows.length} rows.</p>}
      </div>
    );
  const drawn =
    data.kind === 'line'
      ? {
          'data-series-count': data.series.length,
          'data-point-count': data.series.reduce((n, s) => n + s.points.length, 0),
        }
      : data.kind === 'map'
        ? { 'data-point-count': data.points.length }
        : {};
  return (
    <div ref={box} {...drawn} class={map && map.tiles.length > 0 ? 'map-wrap' : undefined}>
      {map && map.tiles.length > 0 && (
        <div
          class="tiles"
          style={{
            left: MAP_GRID.left,
            top: MAP_GRID.top,
            right: MAP_GRID.right,
            height: height - MAP_GRID.top - MAP_GRID.bottom,
          }}
        >
          {map.tiles.map((t) => (
            <img src={t.url} alt="" style={{ left: t.left, top: t.top, width: t.size, height: t.size }} />
          ))}
        </div>
      )}
      {option && <Chart option={option} height={height} />}
      {data.kind === 'histogram' && (
        <p class="stats">
          n {fmt(data.stats.count)} · min <b>{fmt(data.stats.min)}</b> · max <b>{fmt(data.stats.max)}</b> ·
          avg <b>{fmt(data.stats.avg)}</b>
        </p>
      )}
      {'note' in data && data.note && <p class="note">{data.note}</p>}
    </div>
  );
}

/** A plain result table. */
export function ResultTable(props: {
  columns: readonly string[];
  rows: readonly (readonly unknown[])[];
  first?: number;
  /** Column types; numeric ones are right-aligned (they arrive as text past 2^53 or as decimals). */
  types?: readonly string[];
}) {
  const numeric = (props.types ?? []).map((t) =>
    /^(smallint|integer|bigint|numeric|real|double|decimal)/.test(t),
  );
  return (
    <table class="grid">
      <thead>
        <tr>
          <th class="rownum">#</th>
          {props.columns.map((c) => (
            <th>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row, i) => (
          <tr>
            <td class="rownum">{(props.first ?? 0) + i + 1}</td>
            {row.map((v, c) => (
              <td class={v === null ? 'null' : typeof v === 'number' || numeric[c] ? 'num' : ''}>
                {v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
