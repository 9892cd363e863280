"""Test support shared across apps: pytest plugins that run real servers."""
