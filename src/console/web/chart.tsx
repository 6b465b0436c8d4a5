/** An ECharts canvas as a Preact component (only the chart types the console uses are bundled). */
import { useEffect, useRef } from 'preact/hooks';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  GraphicComponent,
  MarkLineComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  GraphicComponent,
  MarkLineComponent,
  CanvasRenderer,
]);

/** An ECharts option (kept loose: ECharts' own option types are very wide). */
export type ChartOption = Record<string, unknown>;

/** Draws `option`; later options merge into the same chart so live updates do not flicker. */
export function Chart(props: { option: ChartOption; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current) return undefined;
    const instance = echarts.init(el.current);
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(props.option, { replaceMerge: ['series'] });
  }, [props.option]);
  return <div ref={el} class="chart" style={{ height: `${props.height ?? 260}px` }} />;
}
