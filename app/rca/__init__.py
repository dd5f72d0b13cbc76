"""Root-cause analysis: 5 Whys, Ishikawa, 8D."""
