"""PDF reports for auditors: templates, print CSS, and the code that gathers data and renders it."""
