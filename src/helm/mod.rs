//! Helm charts checked as rendered: the charts found among the checked paths ([`chart`]),
//! rendered with the user's Helm ([`render`]), and every finding mapped to the line of the
//! template that produced the node ([`template`]) and the values line that set its value
//! ([`values`]).

pub mod chart;
pub mod render;
pub mod template;
pub mod values;

pub use chart::Chart;
pub use render::{HelmRenderer, Manifest, RenderSpec};
