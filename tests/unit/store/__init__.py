"""Run store unit tests."""
