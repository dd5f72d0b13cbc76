"""KPIs, objectives and the dashboard."""
