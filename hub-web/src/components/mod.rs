//! Reusable pieces of the pages: status badge, metric bar, line chart, table parts, notices.

pub mod confirm;
pub mod copy;
pub mod event_counts;
pub mod event_timeline;
pub mod fleet_marks;
pub mod line_chart;
pub mod maintenance_badge;
pub mod metric_bar;
pub mod notice;
pub mod status_badge;
pub mod table;

pub use confirm::ConfirmButton;
pub use copy::{CopyButton, CopyValue, OneTimeCredentials};
pub use event_counts::EventCounts;
pub use event_timeline::EventTimeline;
pub use fleet_marks::{DriftBadge, VersionMark};
pub use line_chart::LineChart;
pub use maintenance_badge::{MaintenanceBadge, OpenWindows};
pub use metric_bar::MetricBar;
pub use notice::{ErrorNotice, Loading};
pub use status_badge::StatusBadge;
pub use table::SortHeader;
