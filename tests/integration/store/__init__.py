"""Run store tests with real processes."""
