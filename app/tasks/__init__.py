"""Background tasks: heavy work a page asks for (big PDFs and CSV exports, verifying a long audit
trail) runs on the schedulers, claimed in the database, while the page shows its progress."""
