//! Reusable pieces of the pages: status badge, metric bar, line chart, table parts, notices.

pub mod line_chart;
pub mod metric_bar;
pub mod notice;
pub mod status_badge;
pub mod table;

pub use line_chart::LineChart;
pub use metric_bar::MetricBar;
pub use notice::{ErrorNotice, Loading};
pub use status_badge::StatusBadge;
pub use table::SortHeader;
