//! Browser tests of the web app live in `tests/browser/`; this library is empty.
