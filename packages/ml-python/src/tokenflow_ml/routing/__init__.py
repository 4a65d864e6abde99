"""Routing quality: labelled prompt sets, route files, the trained head, and its tooling."""
