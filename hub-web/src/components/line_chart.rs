//! A line chart of a percentage over time, drawn as SVG by the app (no chart library), with the
//! value under the pointer shown on hover or touch. Gaps in the data break the line.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::format;

const W: f64 = 480.0;
const H: f64 = 200.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 26.0;

/// Where the data sits on the chart: the time range and the expected distance between points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub start_ms: i64,
    pub end_ms: i64,
    /// The width of one point; see `Frame::max_gap_ms`.
    pub bucket_ms: i64,
}

impl Frame {
    fn x(&self, t: i64) -> f64 {
        let span = (self.end_ms - self.start_ms).max(1) as f64;
        LEFT + (t - self.start_ms) as f64 / span * (W - LEFT - RIGHT)
    }

    fn y(value: f64) -> f64 {
        TOP + (1.0 - value.clamp(0.0, 100.0) / 100.0) * (H - TOP - BOTTOM)
    }

    /// Points further apart than this are not joined: the node did not report in between.
    /// Controllers report every 15–30 min, so a line is only broken after a real pause.
    pub fn max_gap_ms(&self) -> i64 {
        (3 * self.bucket_ms).max(3_600_000)
    }

    /// The SVG path of the points; a missing value or a long pause starts a new segment.
    pub fn path(&self, points: &[(i64, f64)]) -> String {
        let mut d = String::new();
        let mut last: Option<i64> = None;
        for &(t, v) in points {
            let joined = last.is_some_and(|prev| t - prev <= self.max_gap_ms());
            let cmd = if joined { 'L' } else { 'M' };
            d.push_str(&format!("{cmd}{:.1},{:.1}", self.x(t), Self::y(v)));
            if !joined {
                // A lone point still shows as a short dash.
                d.push_str("h0.1");
            }
            last = Some(t);
        }
        d
    }

    /// The index of the point nearest to the horizontal share `fraction` (0–1) of the plot.
    pub fn nearest(&self, points: &[(i64, f64)], fraction: f64) -> Option<usize> {
        let t = self.start_ms as f64 + fraction.clamp(0.0, 1.0) * (self.end_ms - self.start_ms) as f64;
        points
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| (a.0 as f64 - t).abs().total_cmp(&(b.0 as f64 - t).abs()))
            .map(|(i, _)| i)
    }
}

/// The chart. `points` are (Unix ms, percent) pairs in time order; missing values are left out.
#[component]
pub fn LineChart(title: &'static str, points: Vec<(i64, f64)>, frame: Frame, with_time: bool) -> impl IntoView {
    let hover = RwSignal::new(None::<usize>);
    let latest = points.last().map(|p| format::percent(p.1)).unwrap_or_else(|| "–".into());
    let peak = points.iter().map(|p| p.1).reduce(f64::max).map(format::percent).unwrap_or_else(|| "–".into());
    let empty = points.is_empty();
    let path = frame.path(&points);
    let points = StoredValue::new(points);
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some(target) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let rect = target.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let fraction = (ev.client_x() as f64 - rect.left()) / rect.width();
        hover.set(points.with_value(|p| frame.nearest(p, fraction)));
    };
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let grid = [0.0, 50.0, 100.0].map(|v| {
        let y = Frame::y(v);
        view! {
            <line class="grid" x1=LEFT x2=W - RIGHT y1=y y2=y></line>
            <text class="axis" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{format!("{v:.0}")}</text>
        }
    });
    let mid = frame.start_ms + (frame.end_ms - frame.start_ms) / 2;
    let x_labels = [(frame.start_ms, "start"), (mid, "middle"), (frame.end_ms, "end")].map(|(t, anchor)| {
        view! {
            <text class="axis" x=frame.x(t) y=H - 8.0 text-anchor=anchor>{format::axis_label(t, with_time)}</text>
        }
    });
    let hover_mark = move || {
        let i = hover.get()?;
        let (t, v) = points.with_value(|p| p.get(i).copied())?;
        let (x, y) = (frame.x(t), Frame::y(v));
        let label = format!("{} · {}", format::axis_label(t, true), format::percent(v));
        let label_x = x.clamp(LEFT + 90.0, W - RIGHT - 90.0);
        Some(view! {
            <g class="hover">
                <line class="hover-line" x1=x x2=x y1=TOP y2=TOP + plot_h></line>
                <circle class="hover-dot" cx=x cy=y r="4"></circle>
                <rect class="tip" x=label_x - 88.0 y=TOP - 10.0 width="176" height="20" rx="4"></rect>
                <text class="tip-text" x=label_x y=TOP + 4.0 text-anchor="middle">{label}</text>
            </g>
        })
    };
    view! {
        <figure class="chart" data-chart=title>
            <figcaption>
                <span class="chart-title">{title}</span>
                <span class="muted">"now " {latest} " · peak " {peak}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=format!("{title} history")>
                {grid}
                {x_labels}
                {(!empty).then(|| view! { <path class="line" d=path></path> })}
                {empty.then(|| view! {
                    <text class="axis" x=LEFT + plot_w / 2.0 y=TOP + plot_h / 2.0 text-anchor="middle">"No data in this period"</text>
                })}
                {hover_mark}
                <rect class="overlay" x=LEFT y=TOP width=plot_w height=plot_h
                    on:pointermove=on_move on:pointerdown=on_move on:pointerleave=move |_| hover.set(None)></rect>
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const FRAME: Frame = Frame { start_ms: 0, end_ms: 1000, bucket_ms: 100 };

    #[test]
    fn gaps_break_the_line() {
        let day = Frame { start_ms: 0, end_ms: 24 * 60 * MIN, bucket_ms: 5 * MIN };
        let d = day.path(&[(0, 0.0), (30 * MIN, 100.0), (5 * 60 * MIN, 50.0)]);
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert!(d.starts_with(&format!("M{LEFT:.1},{:.1}", H - BOTTOM)), "{d}");
    }

    #[test]
    fn finds_the_nearest_point() {
        let points = [(0, 1.0), (400, 2.0), (1000, 3.0)];
        assert_eq!(FRAME.nearest(&points, 0.3), Some(1));
        assert_eq!(FRAME.nearest(&points, 0.9), Some(2));
        assert_eq!(FRAME.nearest(&[], 0.5), None);
    }
}
