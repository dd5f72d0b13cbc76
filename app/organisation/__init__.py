"""Sites, processes, customers and the eight TQM principles."""
