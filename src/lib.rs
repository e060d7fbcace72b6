//! kubetriage: an offline support-bundle analyzer for Kubernetes clusters.
//!
//! The data flows in one direction, module by module:
//! `bundle` (open a folder or archive safely) → `facts` (parse each file once) and `scan` (one
//! pass over the text files for every log pattern) → `checks` run by `engine` against the
//! catalog loaded by `spec` → `model` results → `report` (text, JSON, Markdown) or the terminal UI (`tui`).

pub mod app;
pub mod bundle;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod collector;
pub mod engine;
pub mod excerpt;
pub mod facts;
pub mod jsonscan;
pub mod layout;
pub mod lenient;
pub mod liststream;
pub mod logline;
pub mod manifest;
pub mod model;
pub mod objpath;
pub mod pipeline;
pub mod platform;
pub mod prose;
pub mod reference;
pub mod report;
pub mod sanitize;
pub mod scan;
pub mod spec;
pub mod template;
pub mod timeline;
pub mod timeline_report;
pub mod tui;
pub mod version;
pub mod yaml;
