/**
 * One ECharts chart: only the chart types and components the supervision pages use are registered (echarts/core),
 * so the bundle carries no more of ECharts than they need. Resizes with the window and its container, is
 * disposed on unmount, and carries a text alternative: an aria-label and the data as a visually hidden table.
 */
import { useEffect, useRef, type CSSProperties, type ReactNode } from 'react';
import * as echarts from 'echarts/core';
import {
  BarChart,
  FunnelChart,
  LineChart,
  type BarSeriesOption,
  type FunnelSeriesOption,
  type LineSeriesOption,
} from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type TooltipComponentOption,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  FunnelChart,
  LineChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export type ChartOption = echarts.ComposeOption<
  | BarSeriesOption
  | FunnelSeriesOption
  | LineSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
>;

export interface ChartClick {
  name: string;
  dataIndex: number;
  seriesIndex?: number;
}

/** Hidden on screen, read by screen readers (and by tests that read the page's text). */
export const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
};

export function Chart({
  option,
  label,
  height = 300,
  onClick,
  children,
  testId,
}: {
  option: ChartOption;
  /** What the chart shows, in words (its aria-label). */
  label: string;
  height?: number;
  onClick?: (p: ChartClick) => void;
  /** The chart's data as text (e.g. a DataTable), hidden on screen. */
  children?: ReactNode;
  testId?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const click = useRef(onClick);
  useEffect(() => {
    click.current = onClick;
  }, [onClick]);

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const c = echarts.init(node, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p) => {
      const params = p as unknown as ChartClick;
      click.current?.({ name: params.name, dataIndex: params.dataIndex, seriesIndex: params.seriesIndex });
    });
    const resize = () => c.resize();
    window.addEventListener('resize', resize);
    // The container also changes size without the window (the menu drawer, the grid's breakpoints).
    const observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(resize);
    observer?.observe(node);
    return () => {
      window.removeEventListener('resize', resize);
      observer?.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <figure style={{ margin: 0, position: 'relative' }} data-testid={testId}>
      <div
        ref={el}
        role="img"
        aria-label={label}
        style={{ width: '100%', height, cursor: onClick ? 'pointer' : undefined }}
      />
      {children && <figcaption style={visuallyHidden}>{children}</figcaption>}
    </figure>
  );
}

/** A chart's data as a plain table, for screen readers (see Chart's children). */
export function DataTable({
  caption,
  headers,
  rows,
}: {
  caption: string;
  headers: string[];
  rows: (string | number)[][];
}) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {headers.map((h) => (
            <th key={h} scope="col">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {r.map((c, j) =>
              j === 0 ? (
                <th key={j} scope="row">
                  {c}
                </th>
              ) : (
                <td key={j}>{c}</td>
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
